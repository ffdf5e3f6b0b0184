using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Projections;
using LoopDoctor.Cli.Reporting;
using LoopDoctor.Cli.Signals;
using LoopDoctor.Cli.Snapshots;

namespace LoopDoctor.Cli.Rules;

/// <summary>
/// <c>deadlock</c> (critical): a cycle in the wait-for graph of locks, said in words: each thread (id, name, pool or
/// not), the lock it holds and the one it waits for (type, and the field or static holding it when a snapshot resolves
/// it), its call site, how long at least it has been stuck, and the threads queued behind the cycle.
/// </summary>
internal sealed class DeadlockRule(DiagnosisOptions options) : IFindingRule
{
    public IEnumerable<Finding> Evaluate(DiagnosisProjections projections)
    {
        var graph = projections.LockWaits;
        foreach (var cycle in WaitForGraph.Cycles(WaitForGraph.Edges(graph, projections.NowMs)))
        {
            // A cycle formed after a snapshot (monitor) is the events' alone: the snapshot cannot name its locks.
            yield return Describe(cycle, projections, cycle.Members.Any(m => m.FromSnapshot) ? graph.Snapshot : null);
        }
    }

    private Finding Describe(LockCycle cycle, DiagnosisProjections projections, ProcessSnapshot? snapshot)
    {
        var members = cycle.Members;
        var stuck = members.Select(m => StuckMs(m, projections)).ToList();
        var known = stuck.Where(s => s is not null).Select(s => s!.Value).ToList();
        var stuckAtLeast = known.Count > 0 ? known.Min() : 0;
        var evidence = new List<string>();
        for (var i = 0; i < members.Count; i++)
        {
            var member = members[i];
            var holds = members[(i + members.Count - 1) % members.Count].Lock;
            var site = member.Stack.CallSite(options.CallSiteDepth);
            evidence.Add($"{Thread(member.Waiter, projections, snapshot)} holds {Lock(holds, snapshot)} and waits for {Lock(member.Lock, snapshot)}" +
                         (site.Count > 0 ? $" at {site[0]}" : " (no application frame on its stack)") +
                         (stuck[i] is { } ms ? $", stuck for at least {DurationText.FromMilliseconds(ms)}." : ", stuck since before the session began (no event showed its wait start)."));
        }

        if (cycle.Queued.Count > 0)
        {
            evidence.AddRange(cycle.Queued.GroupBy(q => q.Stack.CallSite(options.CallSiteDepth) is { Count: > 0 } s ? s[0] : "(no application frame)")
                .OrderByDescending(g => g.Count())
                .Select(g => $"{g.Count()} more thread{(g.Count() == 1 ? "" : "s")} queue{(g.Count() == 1 ? "s" : "")} behind the cycle at {g.Key}" +
                             $" ({string.Join(", ", g.Select(q => Thread(q.Waiter, projections, snapshot)))})."));
        }

        evidence.Add(snapshot is null
            ? "Seen in the runtime's contention events (each wait names the lock's owner); a snapshot (--snapshot) would name the locks' types and fields."
            : $"Seen in a snapshot of the process: a heap dump of {ByteText.From(snapshot.DumpBytes)} that paused the target for at most {DurationText.FromMilliseconds(snapshot.TargetPaused.TotalMilliseconds)}" +
              (snapshot.KeptAt is { } path ? $", kept at {path}." : ", deleted after reading."));

        var sites = members.Select((m, i) => new CallSite(m.Stack.CallSite(options.CallSiteDepth), 1, Math.Round(stuck[i] ?? 0, 3)) { BlockingApi = LockApi(m.Lock, snapshot) })
            .Where(s => s.Frames.Count > 0)
            .ToList();
        var title = $"Deadlock: {members.Count} threads wait for each other's locks ({string.Join(", ", members.Select(m => Lock(m.Lock, snapshot)))})" +
                    (stuckAtLeast > 0 ? $", stuck for at least {DurationText.FromMilliseconds(stuckAtLeast)}" : "") +
                    (cycle.Queued.Count > 0 ? $"; {cycle.Queued.Count} more thread{(cycle.Queued.Count == 1 ? "" : "s")} queue behind them" : "");
        return new Finding(FindingKinds.Deadlock, Severity.Critical, title, Advice.Deadlock, members.Count + cycle.Queued.Count,
            Math.Round(known.Sum(), 3), Math.Round(known.Count > 0 ? known.Max() : 0, 3), sites)
        {
            Evidence = evidence,
        };
    }

    /// <summary>How long the thread has waited at least: from its wait event, else from the samples that show it parked.</summary>
    private static double? StuckMs(WaitEdge edge, DiagnosisProjections projections)
    {
        if (edge.SinceMs is { } since)
        {
            return projections.NowMs - since;
        }

        return projections.HungWaits.ParkedFor(projections.NowMs, 0).FirstOrDefault(p => p.ThreadId == edge.Waiter)?.ParkedMs(projections.NowMs);
    }

    internal static string Thread(int osThreadId, DiagnosisProjections projections, ProcessSnapshot? snapshot)
    {
        var seen = snapshot?.Thread(osThreadId);
        var pool = seen?.IsPoolWorker == true || projections.PoolThreads.IsWorker(osThreadId);
        var name = seen?.Name is { Length: > 0 } n && !n.StartsWith(".NET TP", StringComparison.Ordinal) ? $" \"{n}\"" : "";
        return $"thread {osThreadId}{name} ({(pool ? "pool thread" : "not a pool thread")})";
    }

    private static string Lock(ulong address, ProcessSnapshot? snapshot) => snapshot?.LockAt(address) is { } l
        ? $"the {(l.Kind == SnapshotLockKind.Lock ? "Lock" : "lock on a " + l.TypeName)}" + (l.HeldIn is { } field ? $" in {field}" : "")
        : $"the lock on the object at 0x{address:x}";

    private static string LockApi(ulong address, ProcessSnapshot? snapshot) =>
        snapshot?.LockAt(address)?.Kind == SnapshotLockKind.Lock ? "Lock.Enter" : CallStack.LockApi;
}
