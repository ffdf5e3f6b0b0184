namespace LoopDoctor.Cli.Snapshots;

/// <summary>When <c>diagnose</c> takes a snapshot (a heap dump read with ClrMD) at the end of its session.</summary>
internal enum SnapshotMode
{
    /// <summary>Only when a thread has waited to enter a lock for <see cref="SnapshotRequest.StuckMs"/> (the default).</summary>
    Auto,

    /// <summary>Always (<c>--snapshot</c>).</summary>
    Always,

    /// <summary>Never (<c>--no-snapshot</c>).</summary>
    Never,
}

/// <param name="StuckMs">How long a thread must have waited to enter one lock, in application code, for an automatic snapshot.</param>
internal sealed record SnapshotRequest(SnapshotMode Mode, bool KeepDump, double StuckMs = SnapshotRequest.DefaultStuckMs)
{
    public const double DefaultStuckMs = 5_000;
}
