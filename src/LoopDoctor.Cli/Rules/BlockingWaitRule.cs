using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Projections;
using LoopDoctor.Cli.Reporting;
using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Rules;

/// <summary>
/// <c>blocking-wait</c>: blocking waits on thread-pool workers, by call site, ranked by total time blocked; a wait still
/// open counts once it is as long as a long callback. Durations leave out time inside GC pauses (gc-pause reports that).
/// Sync-over-async (<c>.Result</c>, <c>.Wait()</c>,
/// <c>GetResult()</c>, <c>SemaphoreSlim.Wait</c>: all Monitor.Wait underneath) is named as such.
/// </summary>
internal sealed class BlockingWaitRule(DiagnosisOptions options) : IFindingRule
{
    private static readonly HashSet<string> SyncOverAsyncApis = [".Result", ".Wait()", CallStack.InlinedTaskWait, "GetAwaiter().GetResult()", "SemaphoreSlim.Wait", "Task.WaitAll()", "Task.WaitAny()"];

    public IEnumerable<Finding> Evaluate(DiagnosisProjections projections)
    {
        var workers = projections.PoolThreads;
        var nowMs = projections.NowMs;
        // Without a single wait event (.NET 8 emits none; a recording may not have enabled them) the samples tell.
        var estimated = !projections.BlockingWaits.EventsSeen;
        var inProgress = estimated
            ? SampledInProgress(projections, _ => true)
            : projections.BlockingWaits.Open
                .Select(w => (Wait: w, OwnMs: projections.BlockingWaits.OwnMs(w, nowMs)))
                .Where(w => workers.IsWorker(w.Wait.ThreadId) && w.OwnMs >= options.LongCallbackThresholdMs)
                .Select(w => (projections.BlockingWaits.AttributionOf(w.Wait), BlockingWaits.ApiOf(w.Wait), w.OwnMs, (CallbackActivity?)null))
                .Concat(PreSessionInProgress(projections));
        var ended = estimated ? projections.SampledWaits.Ended : projections.BlockingWaits.Ended;
        // Waits older than the session never send a start event: with events, the samples add those.
        var preSession = estimated ? 0 : projections.SampledWaits.PreSession.Summarize(workers.IsWorker, 1).Count + PreSessionInProgress(projections).Count();
        var summary = ended.Summarize(workers.IsWorker, options.MaxCallSites, inProgress, estimated ? null : projections.SampledWaits.PreSession);
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
        var title = $"{what} at {top.Describe()}: {summary.Count} waits, {DurationText.FromMilliseconds(summary.TotalMs)} blocked in total, longest {DurationText.FromMilliseconds(summary.MaxMs)}" +
                    (estimated ? " (estimated from stack samples)" : "");
        yield return new Finding(FindingKinds.BlockingWait, severity, title, syncOverAsync ? Advice.SyncOverAsync : Advice.BlockingWait,
            summary.Count, Math.Round(summary.TotalMs, 3), Math.Round(summary.MaxMs, 3), summary.CallSites)
        {
            Estimated = estimated,
            Evidence = estimated ? [EstimatedEvidence]
                : preSession > 0 ? [$"{preSession} of these waits had begun before LoopDoctor attached (threads parked at their first stack sample, no wait event): they are counted from the attach, so they lasted at least as long as shown."]
                : [],
        };
    }

    private IEnumerable<(Attribution, string?, double, CallbackActivity?)> PreSessionInProgress(DiagnosisProjections projections) =>
        SampledInProgress(projections, w => w.PreSession);

    // Waits read from samples and still open, as long as a long callback once GC pauses are left out.
    private IEnumerable<(Attribution, string?, double, CallbackActivity?)> SampledInProgress(DiagnosisProjections projections, Func<SampledWaits.Run, bool> include) =>
        projections.SampledWaits.Current
            .Select(w => (Run: w, OwnMs: projections.SampledWaits.OwnMs(w)))
            .Where(w => include(w.Run) && projections.PoolThreads.IsWorker(w.Run.ThreadId) && w.OwnMs >= options.LongCallbackThresholdMs)
            .Select(w => (w.Run.Site, (string?)w.Run.Api, w.OwnMs, (CallbackActivity?)null));

    internal const string EstimatedEvidence =
        "Estimated from stack samples: the session saw no wait events (.NET 8 emits none; a recording may not have enabled them). " +
        "A wait is a run of samples of one thread parked at one call site, as long as the run; waits shorter than the sampling interval are missed.";

    private static string DescribeApi(string? api) => api is null or "Monitor.Wait"
        ? ".Result / .Wait() / GetAwaiter().GetResult() / SemaphoreSlim.Wait"
        : api;
}
