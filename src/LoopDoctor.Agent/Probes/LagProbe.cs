using LoopDoctor.Agent.Histograms;

namespace LoopDoctor.Agent.Probes;

/// <summary>
/// Measures how long work waits to start on one execution resource: the thread pool's queue, a timer, a
/// <see cref="TaskScheduler"/> or a <see cref="SynchronizationContext"/> (a UI thread, an actor, a custom loop).
/// A dedicated sampler thread (never a thread-pool timer, which goes silent exactly when the pool starves) posts one
/// probe at a time and records how long it waited; while it waits, <see cref="CurrentDelay"/> rises so a gauge
/// scraped during a stall shows it. Obtain probes from <c>LoopDoctorAgent</c>; dispose one to stop it.
/// </summary>
public abstract class LagProbe : IDisposable
{
    private readonly LagProbeOutputs _outputs;
    private readonly long _intervalNanoseconds;
    private readonly long _spikeThresholdNanoseconds;
    private ProbeSampler? _owner;
    private long _callbackErrors;
    private int _disposed;
    private long _dueAt;  // timestamp the outstanding measurement should start (posted now, or a timer's due time); 0 = none
    private long _ranAt;  // written when it starts; 0 = not yet

    private protected LagProbe(string name, TimeSpan interval, LagProbeOutputs? outputs, TimeProvider timeProvider)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        Name = name;
        Interval = interval;
        TimeProvider = timeProvider;
        _outputs = outputs ?? LagProbeOutputs.None;
        Histogram = new WindowedHistogram(timeProvider, TimeSpan.FromSeconds(1), MaxWindow);
        Scale = Histogram.Scale;
        IntervalTicks = Math.Max(1, Scale.ToTicks(interval));
        _intervalNanoseconds = TimestampScale.ToNanoseconds(interval);
        _spikeThresholdNanoseconds = _outputs.SpikeThreshold == TimeSpan.MaxValue
            ? long.MaxValue
            : TimestampScale.ToNanoseconds(_outputs.SpikeThreshold);
    }

    /// <summary>The longest window <see cref="GetSnapshot"/> accepts: 60 s.</summary>
    public static TimeSpan MaxWindow { get; } = TimeSpan.FromSeconds(60);

    /// <summary>The probe's name (the <c>scheduler</c> tag value for scheduler probes).</summary>
    public string Name { get; }

    /// <summary>How often the probe samples; also the step of the coordinated-omission correction.</summary>
    public TimeSpan Interval { get; }

    /// <summary>
    /// How long the outstanding probe has been waiting so far (for a timer: how overdue it is), or zero when none is
    /// waiting. Cheap and safe to read from any thread, e.g. an observable gauge callback.
    /// </summary>
    public TimeSpan CurrentDelay
    {
        get
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                return TimeSpan.Zero;
            }

            return TimestampScale.FromNanoseconds(Scale.ToNanoseconds(CurrentDelayTicks(TimeProvider.GetTimestamp())));
        }
    }

    /// <summary>Delays recorded in the last <paramref name="window"/> (0 &lt; window ≤ <see cref="MaxWindow"/>; at 1 s granularity, covering at least the window).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="window"/> is not in (0, <see cref="MaxWindow"/>].</exception>
    public LagSnapshot GetSnapshot(TimeSpan window) => ToLagSnapshot(Histogram.GetSnapshot(window), window);

    /// <summary>Every delay recorded since the probe started; <see cref="LagSnapshot.Window"/> is the time since then.</summary>
    public LagSnapshot GetCumulativeSnapshot() => ToLagSnapshot(Histogram.GetTotalSnapshot(), Histogram.Elapsed);

    /// <summary>Exceptions thrown by output callbacks (metric listeners, spike handlers) or the probed scheduler, swallowed so they never reach the host.</summary>
    public long CallbackErrors => Interlocked.Read(ref _callbackErrors);

    /// <summary>Stops the probe and unregisters it from its sampler. Idempotent.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Interlocked.Exchange(ref _owner, null)?.Remove(this);
        try
        {
            OnDisposed();
        }
        catch (Exception)
        {
            CountCallbackError();
        }

        GC.SuppressFinalize(this);
    }

    internal WindowedHistogram Histogram { get; }

    internal TimeProvider TimeProvider { get; }

    internal TimestampScale Scale { get; }

    /// <summary><see cref="Interval"/> in timestamp ticks.</summary>
    internal long IntervalTicks { get; }

    internal bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    internal void AttachTo(ProbeSampler owner) => _owner = owner;

    /// <summary>Called by the sampler thread every tick: record a finished measurement, send the next one. Must not allocate.</summary>
    internal void Tick(long now)
    {
        if (IsDisposed)
        {
            return;
        }

        long dueAt = Volatile.Read(ref _dueAt);
        if (dueAt != 0)
        {
            long ranAt = Volatile.Read(ref _ranAt);
            if (ranAt == 0)
            {
                return;  // still waiting (CurrentDelay shows it): keep ticking, don't pile up another
            }

            Volatile.Write(ref _dueAt, 0);
            RecordSample(ranAt - dueAt, ranAt);
        }

        // Reset "ran" before publishing "due" so a reader that sees the new measurement never sees the old start.
        Volatile.Write(ref _ranAt, 0);
        Volatile.Write(ref _dueAt, NonZero(DueAt(TimeProvider.GetTimestamp())));
        try
        {
            Send();
        }
        catch (Exception)
        {
            // The scheduler refused (shut down, full, disposed): nothing is outstanding; try again next tick.
            Volatile.Write(ref _dueAt, 0);
            CountCallbackError();
        }
    }

    /// <summary>How long the outstanding measurement has waited at <paramref name="now"/>, in timestamp ticks (0 if none or it already ran).</summary>
    internal long CurrentDelayTicks(long now)
    {
        long dueAt = Volatile.Read(ref _dueAt);
        return dueAt == 0 || Volatile.Read(ref _ranAt) != 0 ? 0 : Math.Max(0, now - dueAt);
    }

    /// <summary>When a measurement sent at <paramref name="sentAt"/> should start: at once for a posted work item.</summary>
    private protected virtual long DueAt(long sentAt) => sentAt;

    /// <summary>Queues the measurement (a work item, a post, a timer); what runs must call <see cref="MarkStarted"/>.</summary>
    private protected abstract void Send();

    /// <summary>Called by the measurement when it runs on the probed scheduler: one timestamp write, nothing else.</summary>
    private protected void MarkStarted()
    {
        if (Volatile.Read(ref _ranAt) == 0)
        {
            Volatile.Write(ref _ranAt, NonZero(TimeProvider.GetTimestamp()));
        }
    }

    private protected virtual void OnDisposed()
    {
    }

    private protected void CountCallbackError() => Interlocked.Increment(ref _callbackErrors);

    /// <summary>
    /// Sends one measured delay to the windowed histogram (corrected for coordinated omission with <see cref="Interval"/>),
    /// the optional OpenTelemetry histogram and the spike callback. Allocation-free; never throws.
    /// </summary>
    internal void RecordSample(long delayTicks, long completedAt)
    {
        long nanoseconds = Scale.ToNanoseconds(Math.Max(0, delayTicks));
        Histogram.RecordWithExpectedInterval(nanoseconds, _intervalNanoseconds, completedAt);

        if (_outputs.Instrument is { Enabled: true } instrument)
        {
            try
            {
                RecordToInstrument(instrument, nanoseconds);
            }
            catch (Exception)
            {
                CountCallbackError();
            }
        }

        if (nanoseconds >= _spikeThresholdNanoseconds && _outputs.OnSpike is { } onSpike)
        {
            try
            {
                onSpike(nanoseconds / 1000, _spikeThresholdNanoseconds / 1000);
            }
            catch (Exception)
            {
                CountCallbackError();
            }
        }
    }

    private void RecordToInstrument(System.Diagnostics.Metrics.Histogram<double> instrument, long nanoseconds)
    {
        // The same coordinated-omission correction as the windowed histogram: D, D − I, … ≥ I.
        long value = nanoseconds;
        int corrections = 0;
        do
        {
            double seconds = value / 1e9;
            if (_outputs.Tag is { } tag)
            {
                instrument.Record(seconds, tag);
            }
            else
            {
                instrument.Record(seconds);
            }

            value -= _intervalNanoseconds;
        }
        while (value >= _intervalNanoseconds && ++corrections <= LagProbeOutputs.MaxCorrectionsPerSample);
    }

    private static long NonZero(long timestamp) => timestamp == 0 ? 1 : timestamp;

    private static LagSnapshot ToLagSnapshot(HistogramSnapshot snapshot, TimeSpan window) => new(
        snapshot.Count,
        TimestampScale.FromNanoseconds(snapshot.Percentile(50)),
        TimestampScale.FromNanoseconds(snapshot.Percentile(90)),
        TimestampScale.FromNanoseconds(snapshot.Percentile(99)),
        TimestampScale.FromNanoseconds(snapshot.Percentile(99.9)),
        TimestampScale.FromNanoseconds(snapshot.Max),
        window);
}
