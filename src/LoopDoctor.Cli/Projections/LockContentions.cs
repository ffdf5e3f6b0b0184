using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Projections;

/// <summary>
/// Contended lock acquisitions: ContentionStop's <c>DurationNs</c> (the time a thread waited for a contended
/// Monitor/Lock) summed by call site, on every thread.
/// Runtime events: https://learn.microsoft.com/dotnet/fundamentals/diagnostics/runtime-contention-events
/// </summary>
internal sealed class LockContentions(int callSiteDepth) : IProjection
{
    /// <summary>The blocking API every contention is reported under.</summary>

    private readonly Dictionary<int, ContentionStarted> _open = [];

    /// <summary>Ended contentions by thread and call site.</summary>
    public CallSiteTotals Ended { get; } = new();

    public void Observe(Signal signal)
    {
        switch (signal)
        {
            case ContentionStarted started:
                _open[started.ThreadId] = started;
                break;
            case ContentionStopped stop:
                _open.Remove(stop.ThreadId, out var start);
                // The stop event's stack is taken at the same call site; fall back to the start's when it resolved better.
                var stack = stop.Stack.ApplicationFrames.Count > 0 || start is null ? stop.Stack : start.Stack;
                Ended.Add(stop.ThreadId, stack.CallSite(callSiteDepth), CallStack.LockApi, stop.DurationMs);
                break;
        }
    }
}
