using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Projections;

/// <summary>Every projection the finding rules read, fed the same signals, and the trace clock they are judged at.</summary>
internal sealed class DiagnosisProjections : IProjection
{
    private readonly IProjection[] _all;

    public DiagnosisProjections(int callSiteDepth, double longCallbackThresholdMs, double lagThresholdMs = 100)
    {
        Timeline = new SessionTimeline(lagThresholdMs);
        GcPauses = new GcPauses(callSiteDepth);
        BlockingWaits = new BlockingWaits(callSiteDepth, Requests, AwaitedTasks, GcPauses.OverlapMs);
        SampledWaits = new SampledWaits(callSiteDepth, Requests, AwaitedTasks, GcPauses.OverlapMs);
        LockContentions = new LockContentions(callSiteDepth, Requests);
        LongCallbacks = new LongCallbacks(callSiteDepth, longCallbackThresholdMs, Timeline.AddLongCallback, GcPauses.OverlapMs, Requests);
        UnobservedTaskExceptions = new UnobservedTaskExceptions(callSiteDepth);
        // Request markers and task events first: a wait or a sample reads the ones that came before it.
        _all = [Requests, AwaitedTasks, PoolThreads, ThreadPool, BlockingWaits, SampledWaits, LockContentions, LongCallbacks, UnobservedTaskExceptions, GcPauses, LockWaits, HungWaits, Timeline];
    }

    public PoolThreads PoolThreads { get; } = new();

    /// <summary>ASP.NET Core's request markers per thread: which endpoint a stack served.</summary>
    public RequestsOnThreads Requests { get; } = new();

    /// <summary>What synchronous task waits wait for (TPL events): read by the wait projections.</summary>
    public AwaitedTasks AwaitedTasks { get; } = new();

    public ThreadPoolStatistics ThreadPool { get; } = new();

    public BlockingWaits BlockingWaits { get; }

    /// <summary>Blocking waits from stack samples: what the rules use when no wait event arrived (.NET 8).</summary>
    public SampledWaits SampledWaits { get; }

    public LockContentions LockContentions { get; }

    public LongCallbacks LongCallbacks { get; }

    public UnobservedTaskExceptions UnobservedTaskExceptions { get; }

    /// <summary>Open contended-lock waits with their owners, and the snapshot of the process when one was taken.</summary>
    public LockWaitGraph LockWaits { get; } = new();

    /// <summary>Threads parked in one wait, from wait events or stack samples.</summary>
    public HungWaits HungWaits { get; } = new();

    /// <summary>The GC's pauses, the collections inside them, and the sampled allocations.</summary>
    public GcPauses GcPauses { get; }

    /// <summary>The session in time buckets (the HTML report's charts, monitor's sparklines).</summary>
    public SessionTimeline Timeline { get; }

    /// <summary>Whether <see cref="BlockedAtOnce"/> comes from stack samples: without wait events (.NET 8) only they show parked threads.</summary>
    public bool BlockedAtOnceSampled => !BlockingWaits.EventsSeen;

    /// <summary>The most threads blocked in waits at the same time: from wait events, else from stack samples.</summary>
    public int BlockedAtOnce => BlockedAtOnceSampled ? SampledWaits.MaxBlockedAtOnce : ThreadPool.MaxBlockedPoolThreads;

    /// <summary>The latest event time seen (ms into the trace): how long an open wait or episode has lasted so far.</summary>
    public double NowMs { get; private set; }

    public void Observe(Signal signal)
    {
        // A collapsed run of samples lasts until its last sample.
        NowMs = Math.Max(NowMs, signal is StackSample sample ? sample.LastTimestampMs : signal.TimestampMs);
        foreach (var projection in _all)
        {
            projection.Observe(signal);
        }
    }
}
