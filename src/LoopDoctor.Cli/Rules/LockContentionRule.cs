using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Projections;

namespace LoopDoctor.Cli.Rules;

/// <summary>
/// <c>lock-contention</c>: time spent waiting for contended locks, by call site. Every thread counts: a contended lock
/// hurts wherever it is taken.
/// </summary>
internal sealed class LockContentionRule(DiagnosisOptions options) : IFindingRule
{
    public IEnumerable<Finding> Evaluate(DiagnosisProjections projections)
    {
        var summary = projections.LockContentions.Ended.Summarize(_ => true, options.MaxCallSites);
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
