namespace LoopDoctor.Cli.Rules;

/// <summary>Thresholds and list sizes of the diagnosis. Defaults follow asyncio's debug mode (slow_callback_duration = 100 ms).</summary>
internal sealed record DiagnosisOptions
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

    /// <summary>A thread in the same wait this long, with no deadlock to explain it, is a hung wait.</summary>
    public double HungWaitMs { get; init; } = 10_000;

    /// <summary>The defaults with --hung-after's threshold, when given.</summary>
    public static DiagnosisOptions WithHungAfter(TimeSpan? hungAfter) => hungAfter is { } t ? new() { HungWaitMs = t.TotalMilliseconds } : new();

    /// <summary>Call sites listed per finding.</summary>
    public int MaxCallSites { get; init; } = 5;

    /// <summary>Application frames kept per call site.</summary>
    public int CallSiteDepth { get; init; } = 4;
}
