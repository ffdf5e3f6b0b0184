using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Projections;
using LoopDoctor.Cli.Reporting;

namespace LoopDoctor.Cli.Rules;

/// <summary>
/// <c>blocking-wait</c>: blocking waits on thread-pool workers, by call site, ranked by total time blocked; a wait still
/// open counts once it is as long as a long callback. Sync-over-async (<c>.Result</c>, <c>.Wait()</c>,
/// <c>GetResult()</c>, <c>SemaphoreSlim.Wait</c>: all Monitor.Wait underneath) is named as such.
/// </summary>
internal sealed class BlockingWaitRule(DiagnosisOptions options) : IFindingRule
{
    private static readonly HashSet<string> SyncOverAsyncApis = [".Result", ".Wait()", "GetAwaiter().GetResult()", "SemaphoreSlim.Wait", "Task.WaitAll()", "Task.WaitAny()"];

    public IEnumerable<Finding> Evaluate(DiagnosisProjections projections)
    {
        var workers = projections.PoolThreads;
        var nowMs = projections.NowMs;
        var inProgress = projections.BlockingWaits.Open
            .Where(w => workers.IsWorker(w.ThreadId) && nowMs - w.TimestampMs >= options.LongCallbackThresholdMs)
            .Select(w => (w.Stack.CallSite(options.CallSiteDepth), BlockingWaits.ApiOf(w), nowMs - w.TimestampMs, (CallbackActivity?)null));
        var summary = projections.BlockingWaits.Ended.Summarize(workers.IsWorker, options.MaxCallSites, inProgress);
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
        var title = $"{what} at {top.Describe()}: {summary.Count} waits, {DurationText.FromMilliseconds(summary.TotalMs)} blocked in total, longest {DurationText.FromMilliseconds(summary.MaxMs)}";
        yield return new Finding(FindingKinds.BlockingWait, severity, title, syncOverAsync ? Advice.SyncOverAsync : Advice.BlockingWait,
            summary.Count, Math.Round(summary.TotalMs, 3), Math.Round(summary.MaxMs, 3), summary.CallSites);
    }

    private static string DescribeApi(string? api) => api is null or "Monitor.Wait"
        ? ".Result / .Wait() / GetAwaiter().GetResult() / SemaphoreSlim.Wait"
        : api;
}
