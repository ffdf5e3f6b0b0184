using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Detectors;

/// <summary>
/// <c>lock-contention</c>: ContentionStop's <c>DurationNs</c> (the time a thread waited for a contended Monitor/Lock)
/// summed by call site. Every thread counts: a contended lock hurts wherever it is taken.
/// Runtime events: https://learn.microsoft.com/dotnet/fundamentals/diagnostics/runtime-contention-events
/// </summary>
internal sealed class LockContentionDetector(DetectorOptions options) : IDetector
{
    private readonly Dictionary<int, ContentionStarted> _open = [];
    private readonly CallSiteAggregator _contentions = new();

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
                _contentions.Add(stop.ThreadId, stack.CallSite(options.CallSiteDepth), "lock (Monitor.Enter)", stop.DurationMs);
                break;
        }
    }

    public IEnumerable<Finding> GetFindings(DetectionContext context)
    {
        var summary = _contentions.Summarize(_ => true, options.MaxCallSites);
        if (summary.Count == 0)
        {
            yield break;
        }

        var severity = summary.TotalMs >= 10 * options.LockContentionWarningTotalMs && summary.MaxMs >= options.LongCallbackThresholdMs / 10
            ? Severity.Critical
            : summary.TotalMs >= options.LockContentionWarningTotalMs || summary.MaxMs >= options.LongCallbackThresholdMs / 2
                ? Severity.Warning
                : Severity.Info;
        var top = summary.CallSites[0];
        var title = $"Lock contention at {top.Describe()}: {summary.Count} contended acquisitions, {Format.Ms(summary.TotalMs)} spent waiting, longest {Format.Ms(summary.MaxMs)}";
        yield return new Finding(FindingKinds.LockContention, severity, title, Advice.LockContention,
            summary.Count, Math.Round(summary.TotalMs, 3), Math.Round(summary.MaxMs, 3), summary.CallSites);
    }
}
