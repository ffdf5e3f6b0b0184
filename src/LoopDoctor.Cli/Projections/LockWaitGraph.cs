using LoopDoctor.Cli.Signals;
using LoopDoctor.Cli.Snapshots;

namespace LoopDoctor.Cli.Projections;

/// <summary>A thread waiting to enter a lock, and who owned the lock when the wait began.</summary>
internal sealed record LockWait(int ThreadId, double SinceMs, ulong LockId, ulong ObjectAddress, int OwnerThreadId, CallStack Stack);

/// <summary>
/// The wait-for graph of contended locks (waiter → owner), from ContentionStart's owner fields: the waits still open,
/// and the snapshot of the process when one was taken (it shows waits that began before the session, which no event
/// will ever report).
/// </summary>
internal sealed class LockWaitGraph : IProjection
{
    // More open waits than this are a flood, not a deadlock's queue; the oldest ones are the telling ones.
    private const int MaxOpenWaits = 10_000;

    private readonly Dictionary<int, LockWait> _open = [];
    private readonly Dictionary<int, CallStack> _pendingStacks = [];
    private readonly HashSet<int> _releasedSinceSnapshot = [];

    /// <summary>Lock waits still open now, by waiting thread.</summary>
    public IReadOnlyDictionary<int, LockWait> Open => _open;

    /// <summary>The latest snapshot of the process, if one was taken (at the end of the session, or during it: monitor).</summary>
    public ProcessSnapshot? Snapshot { get; private set; }

    /// <summary>When <see cref="Snapshot"/> was taken (trace time).</summary>
    public double? SnapshotAtMs { get; private set; }

    /// <summary>Why a wanted snapshot could not be taken, if it could not.</summary>
    public string? SnapshotFailure { get; private set; }

    /// <summary>Whether ContentionStart carried its owner (.NET 8+) at least once.</summary>
    public bool OwnersSeen { get; private set; }

    public void Observe(Signal signal)
    {
        switch (signal)
        {
            case ContentionStarted started:
                _pendingStacks[started.ThreadId] = started.Stack;
                break;
            case LockWaitStarted wait:
                OwnersSeen |= wait.OwnerThreadId != 0;
                _pendingStacks.Remove(wait.ThreadId, out var stack);
                if (_open.Count < MaxOpenWaits || _open.ContainsKey(wait.ThreadId))
                {
                    _open[wait.ThreadId] = new LockWait(wait.ThreadId, wait.TimestampMs, wait.LockId, wait.ObjectAddress, wait.OwnerThreadId, stack ?? CallStack.Empty);
                }

                break;
            case ContentionStopped stopped:
                _open.Remove(stopped.ThreadId);
                _pendingStacks.Remove(stopped.ThreadId);
                if (Snapshot is not null)
                {
                    _releasedSinceSnapshot.Add(stopped.ThreadId);
                }

                break;
            case SnapshotTaken taken:
                Snapshot = taken.Snapshot;
                SnapshotAtMs = taken.TimestampMs;
                _releasedSinceSnapshot.Clear();
                break;
            case SnapshotFailed failed:
                SnapshotFailure = failed.Reason;
                break;
        }
    }

    /// <summary>Whether the thread's lock wait seen in the snapshot may still go on: no contended acquisition of it ended since.</summary>
    public bool StillWaitingSinceSnapshot(int threadId) => !_releasedSinceSnapshot.Contains(threadId);

    /// <summary>Lock waits open for at least <paramref name="minimumMs"/> at <paramref name="nowMs"/>.</summary>
    public IEnumerable<LockWait> StuckSince(double nowMs, double minimumMs) => _open.Values.Where(w => nowMs - w.SinceMs >= minimumMs);
}
