using LoopDoctor.Cli.Signals;
using LoopDoctor.Cli.Snapshots;

namespace LoopDoctor.Cli.Projections;

/// <summary>One thread waiting for a lock another thread holds: an edge of the wait-for graph.</summary>
/// <param name="SinceMs">When the wait began (trace time), when an event showed it; null when only a snapshot did.</param>
/// <param name="FromSnapshot">The snapshot showed the edge (then it names the lock's type and field).</param>
internal sealed record WaitEdge(int Waiter, int Owner, ulong Lock, CallStack Stack, double? SinceMs, bool FromSnapshot = false);

/// <summary>A cycle of threads each waiting for a lock the next one holds, and the threads queued behind it.</summary>
internal sealed record LockCycle(IReadOnlyList<WaitEdge> Members, IReadOnlyList<WaitEdge> Queued);

/// <summary>
/// The wait-for graph (waiter → owner) from the open contention waits or, when taken, the snapshot (which also shows
/// waits that began before the session), and the cycles in it. A cycle is a deadlock: each of its threads waits for a
/// lock that only the next one could release.
/// </summary>
internal static class WaitForGraph
{
    /// <summary>A live wait shorter than this is not part of a cycle: a busy lock changes owners every few ms, and an owner named at a wait's start can be stale.</summary>
    public const double LiveCycleMinimumMs = 1000;

    /// <summary>
    /// The edges: the snapshot's when one was taken (one consistent moment; a live wait's owner was named when the wait
    /// began), less the waits that ended since, and the open waits that have lasted <see cref="LiveCycleMinimumMs"/> at
    /// <paramref name="nowMs"/> and began after the snapshot, if any (monitor can take one long before its end).
    /// </summary>
    public static IReadOnlyDictionary<int, WaitEdge> Edges(LockWaitGraph graph, double nowMs)
    {
        var edges = new Dictionary<int, WaitEdge>();
        if (graph.Snapshot is { } snapshot)
        {
            foreach (var thread in snapshot.Threads)
            {
                if (thread.WaitsFor is { } address && snapshot.LockAt(address) is { } held && graph.StillWaitingSinceSnapshot(thread.OsThreadId))
                {
                    // An event of the same wait still tells when it began.
                    graph.Open.TryGetValue(thread.OsThreadId, out var live);
                    edges[thread.OsThreadId] = new WaitEdge(thread.OsThreadId, held.OwnerOsThreadId, address, new CallStack(thread.Frames),
                        live is not null && live.ObjectAddress == address ? live.SinceMs : null, FromSnapshot: true);
                }
            }
        }

        foreach (var wait in graph.Open.Values.Where(w => w.OwnerThreadId != 0 && w.OwnerThreadId != w.ThreadId && nowMs - w.SinceMs >= LiveCycleMinimumMs
                                                          && !(w.SinceMs <= graph.SnapshotAtMs)))
        {
            edges[wait.ThreadId] = new WaitEdge(wait.ThreadId, wait.OwnerThreadId, wait.ObjectAddress, wait.Stack, wait.SinceMs);
        }

        return edges;
    }

    public static IReadOnlyList<LockCycle> Cycles(IReadOnlyDictionary<int, WaitEdge> edges)
    {
        var cycles = new List<LockCycle>();
        var inCycle = new HashSet<int>();
        foreach (var start in edges.Keys.Order())
        {
            var path = new List<int>();
            var current = start;
            while (edges.ContainsKey(current) && !path.Contains(current) && !inCycle.Contains(current))
            {
                path.Add(current);
                current = edges[current].Owner;
            }

            var at = path.IndexOf(current);
            if (at < 0)
            {
                continue;
            }

            var members = path.Skip(at).ToList();
            inCycle.UnionWith(members);
            cycles.Add(new LockCycle(members.Select(m => edges[m]).ToList(), []));
        }

        // Every other waiter whose chain of owners ends in a cycle queues behind that cycle.
        return cycles.Select(cycle =>
        {
            var memberIds = cycle.Members.Select(m => m.Waiter).ToHashSet();
            var queued = edges.Values.Where(e => !inCycle.Contains(e.Waiter) && Reaches(edges, e.Waiter, memberIds)).ToList();
            return cycle with { Queued = queued };
        }).ToList();
    }

    private static bool Reaches(IReadOnlyDictionary<int, WaitEdge> edges, int from, HashSet<int> targets)
    {
        var seen = new HashSet<int>();
        var current = from;
        while (edges.TryGetValue(current, out var edge) && seen.Add(current))
        {
            if (targets.Contains(edge.Owner))
            {
                return true;
            }

            current = edge.Owner;
        }

        return false;
    }
}
