using System.Diagnostics.Metrics;
using LoopDoctor.Agent.Diagnostics;
using LoopDoctor.Agent.Metrics;

namespace LoopDoctor.Agent.Probes;

/// <summary>
/// The agent's probes wired from <see cref="LoopDoctorOptions"/>: one <see cref="ProbeSampler"/> (the one dedicated
/// thread), the thread-pool queue-delay and timer-lag probes when enabled, scheduler probes added on request, their
/// OpenTelemetry histograms, spike events, and three "current delay" gauges for scrapes during a stall:
/// <c>loopdoctor.thread_pool.queue.delay.current</c>, <c>loopdoctor.timer.lag.current</c> and
/// <c>loopdoctor.scheduler.delay.current</c> (tag <c>scheduler</c>), all in seconds.
/// </summary>
internal sealed class AgentProbes : IDisposable
{
    public const string QueueDelayProbeName = "thread-pool";
    public const string TimerLagProbeName = "timer";
    public const string SchedulerTagName = "scheduler";

    private readonly LoopDoctorOptions _options;
    private readonly LoopDoctorInstruments? _instruments;
    private readonly Lock _schedulerGate = new();
    private LagProbe[] _schedulerProbes = [];

    private AgentProbes(LoopDoctorOptions options, LoopDoctorInstruments? instruments, TimeProvider? timeProvider)
    {
        _options = options;
        _instruments = instruments;
        Sampler = new ProbeSampler(options.ProbeInterval, timeProvider);
    }

    /// <summary>
    /// Creates the probes <paramref name="options"/> enable, registers their gauges on <paramref name="instruments"/>
    /// (when given) and starts the sampler thread. <paramref name="options"/> must already be validated.
    /// </summary>
    public static AgentProbes Start(LoopDoctorOptions options, LoopDoctorInstruments? instruments, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var probes = new AgentProbes(options, instruments, timeProvider);
        try
        {
            if (options.EnableQueueDelayProbe)
            {
                probes.QueueDelay = probes.Sampler.AddThreadPoolProbe(QueueDelayProbeName, new LagProbeOutputs
                {
                    Instrument = instruments?.QueueDelay,
                    SpikeThreshold = options.LagThreshold,
                    OnSpike = LoopDoctorEventSource.Log.QueueDelaySpike,
                });
            }

            if (options.EnableTimerLagProbe)
            {
                probes.TimerLag = probes.Sampler.AddTimerProbe(options.TimerLagInterval, TimerLagProbeName, new LagProbeOutputs
                {
                    Instrument = instruments?.TimerLag,
                    SpikeThreshold = options.LagThreshold,
                    OnSpike = LoopDoctorEventSource.Log.TimerLagSpike,
                });
            }

            probes.RegisterGauges();
            probes.Sampler.Start();
            return probes;
        }
        catch
        {
            probes.Dispose();
            throw;
        }
    }

    public ProbeSampler Sampler { get; }

    /// <summary>Thread-pool queue delay, or null when <see cref="LoopDoctorOptions.EnableQueueDelayProbe"/> is off.</summary>
    public LagProbe? QueueDelay { get; private set; }

    /// <summary>Timer lag, or null when <see cref="LoopDoctorOptions.EnableTimerLagProbe"/> is off.</summary>
    public LagProbe? TimerLag { get; private set; }

    /// <summary>Probes <paramref name="scheduler"/> every ProbeInterval (one Task allocated per sample); recorded under <c>loopdoctor.scheduler.delay{scheduler=name}</c>.</summary>
    public LagProbe ProbeScheduler(TaskScheduler scheduler, string name)
    {
        ArgumentNullException.ThrowIfNull(scheduler);
        return TrackScheduler(Sampler.AddSchedulerProbe(scheduler, name, SchedulerOutputs(name)));
    }

    /// <summary>Probes <paramref name="context"/> every ProbeInterval (allocation-free Post); recorded under <c>loopdoctor.scheduler.delay{scheduler=name}</c>.</summary>
    public LagProbe ProbeSynchronizationContext(SynchronizationContext context, string name)
    {
        ArgumentNullException.ThrowIfNull(context);
        return TrackScheduler(Sampler.AddSynchronizationContextProbe(context, name, SchedulerOutputs(name)));
    }

    public void Dispose() => Sampler.Dispose();

    private LagProbeOutputs SchedulerOutputs(string name) => new()
    {
        Instrument = _instruments?.SchedulerDelay,
        Tag = new KeyValuePair<string, object?>(SchedulerTagName, name),
        SpikeThreshold = _options.LagThreshold,
    };

    private LagProbe TrackScheduler(LagProbe probe)
    {
        lock (_schedulerGate)
        {
            // Drop disposed probes so an app that probes and disposes repeatedly does not grow this list.
            _schedulerProbes = [.. _schedulerProbes.Where(p => !p.IsDisposed), probe];
        }

        return probe;
    }

    private void RegisterGauges()
    {
        if (_instruments is null)
        {
            return;
        }

        var meter = _instruments.Meter;
        if (QueueDelay is { } queueDelay)
        {
            meter.CreateObservableGauge(LoopDoctorInstruments.Names.QueueDelayCurrent, () => queueDelay.CurrentDelay.TotalSeconds, "s",
                "How long the outstanding thread-pool probe has waited so far; rises during a stall, before any delay is recorded.");
        }

        if (TimerLag is { } timerLag)
        {
            meter.CreateObservableGauge(LoopDoctorInstruments.Names.TimerLagCurrent, () => timerLag.CurrentDelay.TotalSeconds, "s",
                "How overdue the probe timer's callback is right now (0 when it is not overdue).");
        }

        meter.CreateObservableGauge(LoopDoctorInstruments.Names.SchedulerDelayCurrent, ObserveSchedulers, "s",
            "How long the outstanding probe of each probed TaskScheduler or SynchronizationContext has waited so far, by scheduler name.");
    }

    private IEnumerable<Measurement<double>> ObserveSchedulers()
    {
        var probes = Volatile.Read(ref _schedulerProbes);
        var measurements = new List<Measurement<double>>(probes.Length);
        foreach (var probe in probes)
        {
            if (!probe.IsDisposed)
            {
                measurements.Add(new Measurement<double>(probe.CurrentDelay.TotalSeconds, new KeyValuePair<string, object?>(SchedulerTagName, probe.Name)));
            }
        }

        return measurements;
    }
}
