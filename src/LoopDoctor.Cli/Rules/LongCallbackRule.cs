using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Projections;
using LoopDoctor.Cli.Reporting;

namespace LoopDoctor.Cli.Rules;

/// <summary>
/// <c>long-callback</c>, the .NET twin of asyncio's debug-mode "Executing &lt;Task&gt; took 0.3 seconds": a pool
/// thread stayed in one work item longer than the threshold (default 100 ms, asyncio's slow_callback_duration),
/// computing or blocked in native code. Time in a blocking wait or a contended lock is left to those rules, and time
/// inside GC pauses to gc-pause, so one stall is reported once.
/// </summary>
internal sealed class LongCallbackRule(DiagnosisOptions options) : IFindingRule
{
    public IEnumerable<Finding> Evaluate(DiagnosisProjections projections)
    {
        var workers = projections.PoolThreads;
        var callbacks = projections.LongCallbacks;
        var inProgress = callbacks.Current
            .Select(e => (Episode: e, OwnMs: callbacks.OwnMs(e)))
            .Where(e => e.OwnMs >= options.LongCallbackThresholdMs && workers.IsWorker(e.Episode.ThreadId) && !callbacks.MostlyWaiting(e.Episode))
            .Select(e => (e.Episode.Site, e.Episode.BlockingApi, e.OwnMs, (CallbackActivity?)e.Episode.Activity))
            .ToList();
        var summary = callbacks.Ended.Summarize(workers.IsWorker, options.MaxCallSites, inProgress);
        if (summary.Count == 0)
        {
            yield break;
        }

        var top = summary.CallSites[0];
        var cpu = top.Activity == CallbackActivity.Cpu.ToName();
        var doing = cpu ? "computing on the CPU" : $"blocked in {top.BlockingApi ?? "native code (Thread.Sleep or synchronous I/O)"}";
        // One or two barely over the threshold (a pool thread's back-to-back short items can merge into one episode:
        // sampling cannot see the boundary) is info; frequent or clearly long ones are the problem asyncio warns about.
        var severity = summary.MaxMs >= 10 * options.LongCallbackThresholdMs || summary.TotalMs >= 100 * options.LongCallbackThresholdMs
            ? Severity.Critical
            : summary.Count >= 3 || summary.MaxMs >= 2 * options.LongCallbackThresholdMs
                ? Severity.Warning
                : Severity.Info;
        var title = $"Long callbacks: {summary.Count} work items held a pool thread longer than {DurationText.FromMilliseconds(options.LongCallbackThresholdMs)} " +
                    $"(longest {DurationText.FromMilliseconds(summary.MaxMs)}), {doing}, at {top.Describe()}";
        yield return new Finding(FindingKinds.LongCallback, severity, title, cpu ? Advice.LongCallbackCpu : Advice.LongCallbackBlocked,
            summary.Count, Math.Round(summary.TotalMs, 3), Math.Round(summary.MaxMs, 3), summary.CallSites);
    }
}
