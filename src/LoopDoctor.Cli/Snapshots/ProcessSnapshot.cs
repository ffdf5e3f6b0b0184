namespace LoopDoctor.Cli.Snapshots;

/// <summary>Which kind of lock a <see cref="SnapshotLock"/> is.</summary>
internal enum SnapshotLockKind
{
    /// <summary><c>lock (obj)</c> / Monitor on any object: an inflated sync block of the object.</summary>
    Monitor,

    /// <summary><see cref="System.Threading.Lock"/> (C# 13's <c>lock</c> on a Lock).</summary>
    Lock,
}

/// <summary>A lock held at the moment of the snapshot.</summary>
/// <param name="HeldIn">The field or static that references the lock object ("TransferService._checking"), when one was found.</param>
internal sealed record SnapshotLock(ulong Address, string TypeName, SnapshotLockKind Kind, int OwnerOsThreadId, int Waiters, string? HeldIn);

/// <summary>One managed thread at the moment of the snapshot.</summary>
/// <param name="Frames">Its managed frames, innermost first, as <c>Namespace.Type.Method</c>.</param>
/// <param name="WaitsFor">The held lock it is waiting to enter (its stack is in Monitor/Lock entry and references it), else null.</param>
internal sealed record SnapshotThread(int OsThreadId, int ManagedThreadId, string? Name, bool IsPoolWorker, IReadOnlyList<string> Frames, ulong? WaitsFor);

/// <summary>What a dump of the target showed: its threads and the locks held, with how long the target was paused for it.</summary>
internal sealed record ProcessSnapshot(IReadOnlyList<SnapshotThread> Threads, IReadOnlyList<SnapshotLock> Locks, TimeSpan TargetPaused, long DumpBytes, string? KeptAt)
{
    public SnapshotLock? LockAt(ulong address) => Locks.FirstOrDefault(l => l.Address == address);

    public SnapshotThread? Thread(int osThreadId) => Threads.FirstOrDefault(t => t.OsThreadId == osThreadId);
}
