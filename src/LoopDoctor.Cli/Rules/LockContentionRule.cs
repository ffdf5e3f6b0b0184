using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Projections;
using LoopDoctor.Cli.Reporting;

namespace LoopDoctor.Cli.Rules;

/// <summary>
/// <c>lock-contention</c>: time spent waiting for contended locks that application code takes, by the call site that
/// takes the lock. Every thread counts: a contended lock hurts wherever it is taken. Locks taken inside framework code
/// are the framework API's cost and are folded into the finding of the call that reached them (<see cref="FindingLinks"/>);
/// contention whose lock-taking frame did not resolve is counted and said so, never attributed.
/// </summary>
internal sealed class LockContentionRule(DiagnosisOptions options) : IFindingRule
{
    public IEnumerable<Finding> Evaluate(DiagnosisProjections projections)
    {
        var locks = projections.LockContentions;
        var summary = locks.Application.Summarize(_ => true, options.MaxCallSites);
        var unknown = locks.UnknownCount > 0
            ? $"{locks.UnknownCount} more contended acquisitions ({DurationText.FromMilliseconds(locks.UnknownTotalMs)} waiting) are not attributed: the frame that took their lock did not resolve."
            : null;
        if (summary.Count == 0)
        {
            // Alone, a little unattributed contention is noise; from the warning total up it is worth a line.
            if (locks.UnknownTotalMs >= options.LockContentionWarningTotalMs)
            {
                yield return new Finding(FindingKinds.LockContention, Severity.Info,
                    $"Lock contention with no resolvable lock-taking frame: {locks.UnknownCount} contended acquisitions, {DurationText.FromMilliseconds(locks.UnknownTotalMs)} spent waiting",
                    Advice.LockContention, 0, 0, 0, []);
            }

            yield break;
        }

        var severity = summary.TotalMs >= 10 * options.LockContentionWarningTotalMs && summary.MaxMs >= options.LongCallbackThresholdMs / 10
            ? Severity.Critical
            : summary.TotalMs >= options.LockContentionWarningTotalMs || summary.MaxMs >= options.LongCallbackThresholdMs / 2
                ? Severity.Warning
                : Severity.Info;
        var top = summary.CallSites[0];
        var title = $"Lock contention at {top.Describe()}: {summary.Count} contended acquisitions, {DurationText.FromMilliseconds(summary.TotalMs)} spent waiting, longest {DurationText.FromMilliseconds(summary.MaxMs)}";
        yield return new Finding(FindingKinds.LockContention, severity, title, Advice.LockContention,
            summary.Count, Math.Round(summary.TotalMs, 3), Math.Round(summary.MaxMs, 3), summary.CallSites)
        {
            Evidence = unknown is null ? [] : [unknown],
        };
    }

    /// <summary>
    /// The finding for contention on framework-internal locks that no other finding's call explains: info only, since
    /// there is no lock in the application's code to fix; its count and times stay 0, as they are no application lock's.
    /// </summary>
    public static Finding FrameworkOnly(IReadOnlyList<FrameworkLock> locks)
    {
        var top = locks[0];
        var title = $"Contention on locks inside framework code, no lock in application code: {locks.Sum(l => l.Count)} contended acquisitions, " +
                    $"{DurationText.FromMilliseconds(locks.Sum(l => l.TotalMilliseconds))} spent waiting, the most inside {top.Api} called at {top.Describe()}";
        return new Finding(FindingKinds.LockContention, Severity.Info, title, Advice.FrameworkLockContention, 0, 0, 0, [])
        {
            FrameworkLocks = locks,
        };
    }
}
