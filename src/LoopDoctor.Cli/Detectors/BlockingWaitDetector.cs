using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Detectors;

/// <summary>
/// <c>blocking-wait</c>: WaitHandleWaitStart/Stop pairs (paired by thread) on thread-pool workers, by call site,
/// ranked by total time blocked. Sync-over-async (<c>.Result</c>, <c>.Wait()</c>, <c>GetResult()</c>,
/// <c>SemaphoreSlim.Wait</c>: all Monitor.Wait underneath) is named as such.
/// Runtime events: https://learn.microsoft.com/dotnet/fundamentals/diagnostics/runtime-wait-handle-events
/// </summary>
internal sealed class BlockingWaitDetector(DetectorOptions options) : IDetector
{
    private static readonly HashSet<string> SyncOverAsyncApis = [".Result", ".Wait()", "GetAwaiter().GetResult()", "SemaphoreSlim.Wait", "Task.WaitAll()", "Task.WaitAny()"];

    // A wait whose stack is inside Monitor.Enter is the lock's, even when its ContentionStart was not seen (lost or
    // reordered under load: seen in check's lock test): lock-contention reports it.
    private const string LockApi = "lock (Monitor.Enter)";
    private readonly Dictionary<int, WaitStarted> _open = [];
    private readonly HashSet<int> _inContention = [];
    private readonly CallSiteAggregator _waits = new();
    private long _monitorWaits;
    private long _allWaits;

    public void Observe(Signal signal)
    {
        switch (signal)
        {
            case ContentionStarted contention:
                _inContention.Add(contention.ThreadId);
                break;
            case ContentionStopped contention:
                _inContention.Remove(contention.ThreadId);
                break;
            case WaitStarted start when IsUserWait(start) && !_inContention.Contains(start.ThreadId) && start.Stack.BlockingApi != LockApi:
                // A wait inside a contended Monitor.Enter is the lock's: lock-contention reports it.
                _open[start.ThreadId] = start;
                break;
            case WaitStopped stop when _open.Remove(stop.ThreadId, out var start):
                var duration = Math.Max(0, stop.TimestampMs - start.TimestampMs);
                _waits.Add(start.ThreadId, start.Stack.CallSite(options.CallSiteDepth), ApiOf(start), duration);
                _allWaits++;
                if (start.Source == WaitSource.MonitorWait)
                {
                    _monitorWaits++;
                }

                break;
        }
    }

    /// <summary>
    /// Waits with neither a known source nor an application frame are the runtime's own (the pool's gate thread waits
    /// ~500 ms twice a second with WaitSource Unknown; the timer thread likewise): not the user's doing.
    /// </summary>
    internal static bool IsUserWait(WaitStarted start) =>
        start.Source == WaitSource.MonitorWait || start.Stack.ApplicationFrames.Count > 0;

    private static string? ApiOf(WaitStarted start) =>
        start.Stack.BlockingApi ?? (start.Source == WaitSource.MonitorWait ? "Monitor.Wait" : null);

    public IEnumerable<Finding> GetFindings(DetectionContext context)
    {
        var inProgress = _open.Values
            .Where(w => context.PoolThreads.IsWorker(w.ThreadId) && context.NowMs - w.TimestampMs >= options.LongCallbackThresholdMs)
            .Select(w => (w.Stack.CallSite(options.CallSiteDepth), ApiOf(w), context.NowMs - w.TimestampMs, (string?)null));
        var summary = _waits.Summarize(context.PoolThreads.IsWorker, options.MaxCallSites, inProgress);
        if (summary.Count == 0)
        {
            yield break;
        }

        var top = summary.CallSites[0];
        var syncOverAsync = SyncOverAsyncApis.Contains(top.BlockingApi ?? "") || top.BlockingApi == "Monitor.Wait";
        var severity = summary.TotalMs >= 10 * options.BlockingWaitWarningTotalMs && summary.MaxMs >= options.LongCallbackThresholdMs
            ? Severity.Critical
            : summary.TotalMs >= options.BlockingWaitWarningTotalMs || summary.MaxMs >= options.LongCallbackThresholdMs / 2
                ? Severity.Warning
                : Severity.Info;
        var what = syncOverAsync
            ? $"Sync-over-async: thread-pool threads blocked waiting for tasks ({DescribeApi(top.BlockingApi)})"
            : $"Thread-pool threads blocked in synchronous waits ({top.BlockingApi ?? "WaitHandle"})";
        var title = $"{what} at {top.Describe()}: {summary.Count} waits, {Format.Ms(summary.TotalMs)} blocked in total, longest {Format.Ms(summary.MaxMs)}";
        yield return new Finding(FindingKinds.BlockingWait, severity, title, syncOverAsync ? Advice.SyncOverAsync : Advice.BlockingWait,
            summary.Count, Math.Round(summary.TotalMs, 3), Math.Round(summary.MaxMs, 3), summary.CallSites);
    }

    private static string DescribeApi(string? api) => api is null or "Monitor.Wait"
        ? ".Result / .Wait() / GetAwaiter().GetResult() / SemaphoreSlim.Wait"
        : api;
}
