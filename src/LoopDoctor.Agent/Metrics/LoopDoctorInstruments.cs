using System.Diagnostics.Metrics;

namespace LoopDoctor.Agent.Metrics;

/// <summary>
/// The <c>LoopDoctor</c> meter and every instrument the agent publishes. Names follow the OpenTelemetry
/// semantic conventions (dotted, units in seconds, <c>{annotation}</c> units for counts). The README lists each one.
/// One instance per running agent; disposing it disposes the meter and so detaches every listener.
/// </summary>
internal sealed class LoopDoctorInstruments : IDisposable
{
    public const string MeterName = "LoopDoctor";

    /// <summary>Instrument names, used by the agent and by the CLI that reads them over EventPipe.</summary>
    public static class Names
    {
        public const string QueueDelay = "loopdoctor.thread_pool.queue.delay";
        public const string QueueDelayCurrent = "loopdoctor.thread_pool.queue.delay.current";
        public const string TimerLag = "loopdoctor.timer.lag";
        public const string TimerLagCurrent = "loopdoctor.timer.lag.current";
        public const string SchedulerDelay = "loopdoctor.scheduler.delay";
        public const string SchedulerDelayCurrent = "loopdoctor.scheduler.delay.current";
        public const string ThreadInjections = "loopdoctor.thread_pool.thread.injections";
        public const string BlockingWaits = "loopdoctor.thread_pool.blocking_waits";
        public const string BlockingWaitDuration = "loopdoctor.thread_pool.blocking_wait.duration";
        public const string LockContentions = "loopdoctor.lock.contentions";
        public const string LockContentionDuration = "loopdoctor.lock.contention.duration";
        public const string UnobservedExceptions = "loopdoctor.task.unobserved_exceptions";
    }

    // Seconds; every histogram of this meter uses them (the agent's exposition, and a View in LoopDoctor.Agent.OpenTelemetry:
    // InstrumentAdvice is .NET 9+, newer than this build). Roughly 1-2.5-5 per decade from 10 µs to 60 s: Prometheus needs explicit buckets, and the
    // interesting range of a queue delay spans 7 orders of magnitude (a healthy pool is ~10 µs, a stall is seconds).
    internal static readonly double[] DelayBucketsSeconds =
    [
        0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
        0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
    ];

    public LoopDoctorInstruments()
    {
        Meter = new Meter(MeterName, typeof(LoopDoctorInstruments).Assembly.GetName().Version?.ToString(3));

        QueueDelay = Meter.CreateHistogram<double>(Names.QueueDelay, "s",
            "Time a work item waited in the thread pool's global queue before it started (probe, corrected for coordinated omission).");
        TimerLag = Meter.CreateHistogram<double>(Names.TimerLag, "s",
            "How late a timer callback fired against its schedule.");
        SchedulerDelay = Meter.CreateHistogram<double>(Names.SchedulerDelay, "s",
            "Queue delay of a probed TaskScheduler or SynchronizationContext, by scheduler name.");
        ThreadInjections = Meter.CreateCounter<long>(Names.ThreadInjections, "{thread}",
            "Thread-pool worker count adjustments upward, by the runtime's reason (starvation, cooperative_blocking, ...).");
        BlockingWaits = Meter.CreateCounter<long>(Names.BlockingWaits, "{wait}",
            "Blocking waits (Monitor.Wait, .Result, .Wait(), SemaphoreSlim.Wait, ...) that ran on thread-pool threads.");
        BlockingWaitDuration = Meter.CreateHistogram<double>(Names.BlockingWaitDuration, "s",
            "Duration of blocking waits on thread-pool threads.");
        LockContentions = Meter.CreateCounter<long>(Names.LockContentions, "{contention}",
            "Contended Monitor (lock) acquisitions.");
        LockContentionDuration = Meter.CreateHistogram<double>(Names.LockContentionDuration, "s",
            "Time spent waiting for a contended lock.");
        UnobservedExceptions = Meter.CreateCounter<long>(Names.UnobservedExceptions, "{exception}",
            "Faulted tasks whose exception was never observed (TaskScheduler.UnobservedTaskException), by error.type.");
    }

    public Meter Meter { get; }
    public Histogram<double> QueueDelay { get; }
    public Histogram<double> TimerLag { get; }
    public Histogram<double> SchedulerDelay { get; }
    public Counter<long> ThreadInjections { get; }
    public Counter<long> BlockingWaits { get; }
    public Histogram<double> BlockingWaitDuration { get; }
    public Counter<long> LockContentions { get; }
    public Histogram<double> LockContentionDuration { get; }
    public Counter<long> UnobservedExceptions { get; }

    /// <summary>Registers an observable gauge (e.g. the current outstanding probe delay) on this meter.</summary>
    public ObservableGauge<double> CreateGauge(string name, string unit, string description, Func<double> observe)
        => Meter.CreateObservableGauge(name, observe, unit, description);

    public void Dispose() => Meter.Dispose();
}
