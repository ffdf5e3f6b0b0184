namespace LoopDoctor.Agent.RuntimeSignals;

/// <summary>
/// The runtime's reason for a thread-pool worker count change: ThreadPoolWorkerThreadAdjustment/Adjustment's
/// <c>Reason</c> (HillClimbing.StateOrTransition). The agent labels its injection counter with it; the CLI reads it from
/// the same event over EventPipe.
/// </summary>
internal enum ThreadPoolAdjustmentReason
{
    Warmup = 0,
    Initializing = 1,
    RandomMove = 2,
    ClimbingMove = 3,
    ChangePoint = 4,
    Stabilizing = 5,
    Starvation = 6,
    ThreadTimedOut = 7,
    CooperativeBlocking = 8,
}
