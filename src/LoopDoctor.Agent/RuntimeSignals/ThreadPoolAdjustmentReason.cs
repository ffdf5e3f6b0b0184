namespace LoopDoctor.Agent.RuntimeSignals;

/// <summary>
/// The runtime's reason for a thread-pool worker count change: ThreadPoolWorkerThreadAdjustment/Adjustment's
/// <c>Reason</c> (HillClimbing.StateOrTransition). The agent labels its injection counter with it; the CLI reads it from
/// the same event over EventPipe. Numbered from 0 in the runtime's order (pinned by a test).
/// </summary>
internal enum ThreadPoolAdjustmentReason
{
    Warmup,
    Initializing,
    RandomMove,
    ClimbingMove,
    ChangePoint,
    Stabilizing,
    Starvation,
    ThreadTimedOut,
    CooperativeBlocking,
}
