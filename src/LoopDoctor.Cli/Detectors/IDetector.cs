using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Detectors;

/// <summary>
/// Turns a stream of signals into findings. Detectors see every signal in timestamp order, from a live session or a
/// trace file alike, and build findings on demand without consuming state (monitor asks every refresh, diagnose once).
/// Calls are serialized by <see cref="DiagnosisPipeline"/>.
/// </summary>
internal interface IDetector
{
    void Observe(Signal signal);

    IEnumerable<Finding> GetFindings(DetectionContext context);
}

/// <summary>What detectors share when building findings: which threads are pool workers, the pool figures, the clock.</summary>
internal sealed record DetectionContext(DetectorOptions Options, PoolThreadRegistry PoolThreads, ThreadPoolStatistics ThreadPool, double NowMs);

/// <summary>Thresholds. Defaults follow asyncio's debug mode (slow_callback_duration = 100 ms).</summary>
internal sealed record DetectorOptions
{
    /// <summary>A pool thread in one work item longer than this is a long callback.</summary>
    public double LongCallbackThresholdMs { get; init; } = 100;

    /// <summary>Total blocked time (per call site) from which blocking waits are a warning.</summary>
    public double BlockingWaitWarningTotalMs { get; init; } = 100;

    /// <summary>Total contention time (per call site) from which lock contention is a warning.</summary>
    public double LockContentionWarningTotalMs { get; init; } = 100;

    /// <summary>Queue delay or timer lag considered lag (the agent's default LagThreshold).</summary>
    public double LagWarningMs { get; init; } = 100;

    /// <summary>Queue delay or timer lag considered critical (the agent's default UnhealthyLagThreshold).</summary>
    public double LagCriticalMs { get; init; } = 1000;

    /// <summary>Call sites listed per finding.</summary>
    public int MaxCallSites { get; init; } = 5;

    /// <summary>Application frames kept per call site.</summary>
    public int CallSiteDepth { get; init; } = 4;
}
