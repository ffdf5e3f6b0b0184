using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Projections;
using LoopDoctor.Cli.Reporting;

namespace LoopDoctor.Cli.Rules;

/// <summary>
/// <c>hung-wait</c>: threads (pool or not) in the same wait for longer than <see cref="DiagnosisOptions.HungWaitMs"/>,
/// grouped by call site, when no lock cycle explains them (those are the deadlock's). Only waits with an application
/// frame count: the runtime's own threads park for minutes by design. Without a pool thread among them the finding is
/// info: a main thread waiting for the host's shutdown looks exactly like this.
/// </summary>
internal sealed class HungWaitRule(DiagnosisOptions options) : IFindingRule
{
    public IEnumerable<Finding> Evaluate(DiagnosisProjections projections)
    {
        var inDeadlock = WaitForGraph.Cycles(WaitForGraph.Edges(projections.LockWaits, projections.NowMs))
            .SelectMany(c => c.Members.Concat(c.Queued))
            .Select(e => e.Waiter)
            .ToHashSet();
        var hung = projections.HungWaits.ParkedFor(projections.NowMs, options.HungWaitMs)
            .Where(p => !inDeadlock.Contains(p.ThreadId) && HungWaits.InApplicationCode(p.Stack))
            .ToList();
        if (hung.Count == 0)
        {
            yield break;
        }

        var snapshot = projections.LockWaits.Snapshot;
        double Stuck(ParkedThread p) => p.ParkedMs(projections.NowMs);
        var groups = hung.GroupBy(p => string.Join('|', p.Stack.CallSite(options.CallSiteDepth)))
            .OrderByDescending(g => g.Count())
            .ThenByDescending(g => g.Max(Stuck))
            .ToList();
        var sites = groups.Take(options.MaxCallSites)
            .Select(g => new CallSite(g.First().Stack.CallSite(options.CallSiteDepth), g.Count(), Math.Round(g.Sum(Stuck), 3)) { BlockingApi = g.First().Stack.BlockingApi })
            .ToList();
        var evidence = groups.Select(g =>
            $"{g.Count()} thread{(g.Count() == 1 ? "" : "s")} in {g.First().Stack.BlockingApi ?? "a wait"} at {g.First().Stack.CallSite(1)[0]} for at least " +
            $"{DurationText.FromMilliseconds(g.Min(Stuck))}{(g.Any(p => !p.FromEvents) ? " (seen parked in stack samples throughout; the wait began before that)" : "")}: " +
            string.Join(", ", g.Select(p => DeadlockRule.Thread(p.ThreadId, projections, snapshot))) + ".").ToList();
        if (projections.LockWaits.SnapshotFailure is { } failure)
        {
            evidence.Add($"No snapshot: {failure}; whether any of these threads are deadlocked is unknown.");
        }

        // A pool thread parked that long is capacity lost; any other thread may park by design: a host's main thread waits
        // for shutdown (every ASP.NET Core app), a queue consumer for work. Those are said, not counted against the verdict.
        var snapshotThreads = snapshot;
        var anyPoolThread = hung.Any(p => p.Stack.HasPoolDispatchFrame || projections.PoolThreads.IsWorker(p.ThreadId) || snapshotThreads?.Thread(p.ThreadId)?.IsPoolWorker == true);
        evidence.Add(anyPoolThread
            ? "No lock cycle explains these waits; a dedicated thread that waits for work (a queue consumer) is not hung, so ignore it if that is what it is."
            : "None of these is a thread-pool thread, and no lock cycle explains them: a host's main thread waiting for shutdown, or a dedicated thread " +
              "waiting for work, waits like this by design (info). If this one should have moved on, it is hung.");
        var top = groups[0];
        var longest = hung.Max(Stuck);
        var title = $"Hung waits: {hung.Count} thread{(hung.Count == 1 ? "" : "s")} stuck in the same wait for more than {DurationText.FromMilliseconds(options.HungWaitMs)}, " +
                    $"{top.Count()} in {top.First().Stack.BlockingApi ?? "a wait"} at {top.First().Stack.CallSite(1)[0]}";
        yield return new Finding(FindingKinds.HungWait, anyPoolThread ? Severity.Warning : Severity.Info, title, Advice.HungWait, hung.Count, Math.Round(hung.Sum(Stuck), 3), Math.Round(longest, 3), sites)
        {
            Evidence = evidence,
        };
    }
}
