namespace LoopDoctor.Cli.Signals;

/// <summary>
/// Who a contended lock's waiter waits for (ContentionStart on .NET 8+: <c>LockID</c>, <c>AssociatedObjectID</c>,
/// <c>LockOwnerThreadID</c>): the edge waiter → owner of the wait-for graph. Arrives right after the
/// <see cref="ContentionStarted"/> of the same event, which carries the stack.
/// </summary>
/// <param name="LockId">The runtime's native lock id (stable per lock object).</param>
/// <param name="ObjectAddress">The locked object's address (the object of <c>lock (x)</c>, or the Lock instance).</param>
/// <param name="OwnerThreadId">The OS thread id of the lock's owner when the wait began; 0 when unknown.</param>
internal sealed record LockWaitStarted(double TimestampMs, int ThreadId, ulong LockId, ulong ObjectAddress, int OwnerThreadId) : Signal(TimestampMs, ThreadId);

/// <summary>A snapshot of the process (a dump read with ClrMD) was taken at the end of the session.</summary>
internal sealed record SnapshotTaken(double TimestampMs, Snapshots.ProcessSnapshot Snapshot) : Signal(TimestampMs, 0);

/// <summary>A snapshot was wanted but could not be taken or read; <paramref name="Reason"/> says why, in words.</summary>
internal sealed record SnapshotFailed(double TimestampMs, string Reason) : Signal(TimestampMs, 0);
