using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Projections;

/// <summary>
/// The user's blocking waits: WaitHandleWaitStart/Stop pairs (paired by thread) summed by call site, and the waits
/// still open. A wait inside a contended lock is left out: it is the lock's.
/// Runtime events: https://learn.microsoft.com/dotnet/fundamentals/diagnostics/runtime-wait-handle-events
/// </summary>
/// <param name="awaited">The task events, which name what a synchronous task wait blocks on.</param>
/// <param name="gcPausedMs">How long GC pauses stopped every thread between two times (ms): a wait's duration leaves
/// that time out, because the GC's stall is reported once, by gc-pause, and the thread could not have run anyway.</param>
internal sealed class BlockingWaits(int callSiteDepth, IRequestLookup? requests = null, AwaitedTasks? awaited = null, Func<double, double, double>? gcPausedMs = null) : IProjection
{
    private readonly Dictionary<int, WaitStarted> _open = [];
    private readonly HashSet<int> _inContention = [];

    /// <summary>Ended waits by thread and call site.</summary>
    public CallSiteTotals Ended { get; } = new();

    /// <summary>Waits started and not yet ended, one per thread.</summary>
    public IEnumerable<WaitStarted> Open => _open.Values;

    /// <summary>Whether any wait event arrived (the runtime's own included): without one, waits can only be read from samples.</summary>
    public bool EventsSeen { get; private set; }

    public void Observe(Signal signal)
    {
        EventsSeen |= signal is WaitStarted;
        switch (signal)
        {
            case ContentionStarted contention:
                _inContention.Add(contention.ThreadId);
                break;
            case ContentionStopped contention:
                _inContention.Remove(contention.ThreadId);
                break;
            // A wait whose stack is inside Monitor.Enter is the lock's, even when its ContentionStart was not seen (lost
            // or reordered under load: seen in check's lock test).
            case WaitStarted start when IsUserWait(start) && !_inContention.Contains(start.ThreadId) && start.Stack.BlockingApi != CallStack.LockApi:
                _open[start.ThreadId] = start;
                break;
            case WaitStopped stop when _open.Remove(stop.ThreadId, out var start):
                Ended.Add(start.ThreadId, AttributionOf(start), ApiOf(start), OwnMs(start, stop.TimestampMs));
                break;
        }
    }

    /// <summary>How long the wait begun at <paramref name="start"/> lasted until <paramref name="endMs"/>, time inside GC pauses left out.</summary>
    public double OwnMs(WaitStarted start, double endMs) =>
        Math.Max(0, endMs - start.TimestampMs - (gcPausedMs?.Invoke(start.TimestampMs, endMs) ?? 0));

    /// <summary>Who to blame for <paramref name="start"/>: its stack, the request its thread was serving, and the task it waits for.</summary>
    public Attribution AttributionOf(WaitStarted start)
    {
        var site = Attribution.Of(start.Stack, callSiteDepth, requests, start.ThreadId, start.TimestampMs);
        return awaited?.WithAwaits(site, ApiOf(start), start.ThreadId, start.TimestampMs) ?? site;
    }

    /// <summary>
    /// Waits with neither a known source nor an application frame are the runtime's own (the pool's gate thread waits
    /// ~500 ms twice a second with WaitSource Unknown; the timer thread likewise): not the user's doing.
    /// </summary>
    public static bool IsUserWait(WaitStarted start) =>
        start.Source == WaitSource.MonitorWait || start.Stack.ApplicationFrames.Count > 0 || start.Stack.UserCodeInlined;

    /// <summary>The wait's blocking API in user terms; Monitor.Wait when only the wait's source tells.</summary>
    public static string? ApiOf(WaitStarted start) =>
        start.Stack.BlockingApi ?? (start.Source == WaitSource.MonitorWait ? "Monitor.Wait" : null);
}
