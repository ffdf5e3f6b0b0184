using System.Diagnostics;
using LoopDoctor.Cli.Projections;
using LoopDoctor.Cli.Signals;
using Microsoft.Diagnostics.Tracing;

namespace LoopDoctor.Cli.Sources;

/// <summary>When a live session runs the sample profiler (the only source of long-callback and Thread.Sleep call sites).</summary>
internal enum StackSampling
{
    /// <summary>For the whole session (diagnose, run, check, and monitor --stack-sampling always).</summary>
    Always,

    /// <summary>Only while the target shows lag (monitor's default): <see cref="OnDemandSampler"/>.</summary>
    OnLag,

    /// <summary>Never: no long-callback findings.</summary>
    Off,
}

/// <summary>
/// The sample profiler, started in a second EventPipe session only while the target lags. The profiler suspends the
/// runtime about every millisecond to walk every managed thread's stack: measured on BlockingApp /healthy at saturation
/// it is most of an attached monitor's cost to the target (docs/benchmarks.md P5), while a healthy pool has no long
/// callback to find. So it starts when the pool shows trouble — a starvation injection by the runtime (work queued and
/// no worker free for ~0.5 s: what blocked callbacks cause), or queue delay or timer lag over <see cref="DefaultThresholdMs"/>
/// (agent) — for bursts of 15 s with 45 s pauses (<see cref="SamplingSchedule"/>). The samples get their
/// own TraceLog (its rundown names the methods already compiled), arrive as runs of identical samples per thread
/// (<see cref="SampleRunCollapser"/>) and are shifted onto the main session's clock.
/// The trade-off: a long callback that causes no lag, or the first moments of an episode before the sampler runs, has no
/// call site; <c>diagnose</c> and <c>monitor --stack-sampling always</c> sample throughout.
/// </summary>
internal sealed class OnDemandSampler : IDisposable
{
    /// <summary>
    /// Lag that starts the sampler: five times the high-lag warning (100 ms). Not the warning itself: a saturated but
    /// healthy server queues its requests that long (P5's /healthy under wrk started the sampler at 100 ms).
    /// </summary>
    public const double DefaultThresholdMs = 500;

    private readonly int _processId;
    private readonly SessionClock _mainClock;
    private readonly Action<Signal> _sink;
    private readonly TextWriter _log;
    private readonly double _thresholdMs;
    private readonly Lock _lock = new();
    private readonly HashSet<string> _histogramsSeen = [];
    private readonly SamplingSchedule _schedule;
    private int _currentOverThreshold;
    private EventPipeRunner? _running;
    private bool _firstLookRunning;
    private Task _transition = Task.CompletedTask;
    private bool _disposed;

    /// <param name="mainClock">When the main session started, on the target's clock (null: samples are never shifted, so never sent).</param>
    public OnDemandSampler(int processId, SessionClock? mainClock, Action<Signal> sink, TextWriter log, TimeProvider? time = null, double? thresholdMs = null)
    {
        _processId = processId;
        _mainClock = mainClock ?? new SessionClock();

        _sink = sink;
        _log = log;
        _schedule = new SamplingSchedule(time ?? TimeProvider.System);
        _thresholdMs = thresholdMs ?? DefaultThresholdMs;
    }

    public bool IsRunning
    {
        get
        {
            lock (_lock)
            {
                return _running is not null;
            }
        }
    }

    /// <summary>Sees every signal of the main session (on its reader thread): starts or stops the sampler. Never blocks.</summary>
    public void Observe(Signal signal)
    {
        bool trigger = IsLagSignal(signal);
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            switch (_schedule.Observe(trigger, canAct: _transition.IsCompleted))
            {
                case SamplingDecision.Start:
                    _firstLookRunning = false;
                    var why = Describe(signal);
                    _transition = Task.Run(() => StartSession($"the pool is in trouble ({why}): sampling stacks for call sites of long callbacks " +
                                                              $"for {SamplingSchedule.BurstLength.TotalSeconds:0} s."));
                    break;
                case SamplingDecision.Stop when _running is { } running:
                    _running = null;
                    var firstLook = _firstLookRunning;
                    _firstLookRunning = false;
                    _transition = Task.Run(() => StopSessionAsync(running,
                        firstLook
                            ? "the first look is done; lag starts it again"
                            : $"paused after {SamplingSchedule.BurstLength.TotalSeconds:0} s; lag starts it again after {SamplingSchedule.BurstPause.TotalSeconds:0} s"));
                    break;
            }
        }
    }

    /// <summary>
    /// A first look at every thread's stack at attach (<see cref="SamplingSchedule.FirstLookLength"/>): pool threads parked
    /// in a wait since before the session have no wait event to come, and only a stack shows them. Never blocks; the task
    /// completes once the look's session has started (its rundown done).
    /// </summary>
    public Task LookAtAttach()
    {
        lock (_lock)
        {
            if (!_disposed && _transition.IsCompleted && _schedule.FirstLook() == SamplingDecision.Start)
            {
                _firstLookRunning = true;
                _transition = Task.Run(() => StartSession(
                    $"sampling stacks for {SamplingSchedule.FirstLookLength.TotalSeconds:0} s at attach, for threads parked in waits that began before it."));
                return _transition;
            }

            return Task.CompletedTask;
        }
    }

    /// <summary>Signs of a pool in trouble: starvation injections, and lag over the threshold.</summary>
    internal bool IsLagSignal(Signal signal)
    {
        switch (signal)
        {
            case PoolAdjustment { Reason: AdjustmentReason.Starvation }:
                return true;
            case QueueDelaySpike spike:
                return spike.DelayMs >= _thresholdMs;
            case TimerLagSpike spike:
                return spike.LagMs >= _thresholdMs;
            case MetricValue { MeterName: ThreadPoolStatistics.AgentMeter, InstrumentName: ThreadPoolStatistics.QueueDelayCurrentInstrument } current:
                // A stall in progress (the histogram records a probe only once it ran). Twice, as ThreadPoolStatistics asks:
                // loopdoctor's own attach can hold one probe back once.
                return current.Value * 1000 >= _thresholdMs && Interlocked.Increment(ref _currentOverThreshold) >= 2;
            case MetricHistogram { MeterName: ThreadPoolStatistics.AgentMeter } histogram
                when histogram.InstrumentName is ThreadPoolStatistics.QueueDelayInstrument or ThreadPoolStatistics.TimerLagInstrument:
                // The first interval covers loopdoctor's own attach (its rundown pauses the target): not the app's lag.
                lock (_lock)
                {
                    if (_histogramsSeen.Add(histogram.InstrumentName))
                    {
                        return false;
                    }
                }

                return histogram.Count > 0 && histogram.Quantiles.TryGetValue(0.99, out var p99) && p99 * 1000 >= _thresholdMs;
            default:
                return false;
        }
    }

    private static string Describe(Signal signal) => signal switch
    {
        PoolAdjustment => "the runtime injected a thread for starvation",
        QueueDelaySpike spike => $"queue delay {spike.DelayMs:0} ms",
        TimerLagSpike spike => $"timer lag {spike.LagMs:0} ms",
        MetricValue current => $"a work item waiting {current.Value * 1000:0} ms",
        MetricHistogram histogram => $"{(histogram.InstrumentName == ThreadPoolStatistics.TimerLagInstrument ? "timer lag" : "queue delay")} p99 " +
                                     $"{(histogram.Quantiles.TryGetValue(0.99, out var p99) ? p99 * 1000 : 0):0} ms",
        _ => "lag",
    };

    private void StartSession(string announcement)
    {
        try
        {
            // Each session's timestamps count from its own start (TraceEvent's SessionStartTime stays unset in real time):
            // the shift onto the main session's clock comes from the raw timestamps of each session's first event.
            TraceEventSignalAdapter? adapter = null;
            var runner = EventPipeRunner.Start(_processId, SessionProviders.CreateSampler(), LiveSession.CircularBufferMB,
                subscribe: source =>
                {
                    var samplerClock = SessionClock.Of(source);
                    double? offsetMs = null;
                    adapter = new TraceEventSignalAdapter(source, signal =>
                    {
                        if (signal is not StackSample)
                        {
                            return;
                        }

                        if ((offsetMs ??= samplerClock.ShiftOnto(_mainClock)) is not { } offset)
                        {
                            return;
                        }

                        _sink(signal with { TimestampMs = signal.TimestampMs + offset });
                    });
                },
                onEnd: () => adapter?.FlushSamples());
            bool stopNow;
            lock (_lock)
            {
                stopNow = _disposed;
                if (!stopNow)
                {
                    _running = runner;
                }
            }

            if (stopNow)
            {
                StopSessionAsync(runner, null).GetAwaiter().GetResult();
                return;
            }

            _log.WriteLine("loopdoctor: " + announcement);
        }
        catch (LoopDoctorException ex)
        {
            lock (_lock)
            {
                _schedule.NotRunning();
            }

            _log.WriteLine($"loopdoctor: could not start stack sampling ({ex.Message.ReplaceLineEndings(" ").Trim()}); continuing without long-callback call sites.");
        }
    }

    private async Task StopSessionAsync(EventPipeRunner running, string? why)
    {
        await running.StopAsync().ConfigureAwait(false);
        running.Dispose();
        if (why is not null)
        {
            _log.WriteLine($"loopdoctor: stack sampling stopped ({why}).");
        }
    }

    /// <summary>Stops the sampler (when running) and waits for it, bounded.</summary>
    public async Task StopAsync()
    {
        Task transition;
        lock (_lock)
        {
            _disposed = true;
            transition = _transition;
        }

        await Task.WhenAny(transition, Task.Delay(TimeSpan.FromSeconds(10))).ConfigureAwait(false);
        EventPipeRunner? running;
        lock (_lock)
        {
            running = _running;
            _running = null;
        }

        if (running is not null)
        {
            await StopSessionAsync(running, null).ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        EventPipeRunner? running;
        lock (_lock)
        {
            _disposed = true;
            running = _running;
            _running = null;
        }

        running?.Dispose();
    }
}
