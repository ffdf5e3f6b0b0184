namespace LoopDoctor.Cli.Snapshots;

/// <summary>When a run (diagnose, check -p, monitor -p) takes a snapshot (a heap dump read with ClrMD).</summary>
internal enum SnapshotMode
{
    /// <summary>Only when a thread has waited to enter a lock for <see cref="SnapshotRequest.StuckMs"/> and the target is small enough (the default).</summary>
    Auto,

    /// <summary>At the end of the session in any case, and when threads are stuck whatever the target's size (<c>--snapshot</c>).</summary>
    Always,

    /// <summary>Never (<c>--no-snapshot</c>).</summary>
    Never,
}

/// <param name="StuckMs">How long a thread must have waited to enter one lock, in application code, for an automatic snapshot.</param>
/// <param name="WhileRunning">Also watch for stuck threads while the session runs (monitor), not only at its end.</param>
/// <param name="Cooldown">The least time between two snapshots of one run: each pauses the target.</param>
/// <param name="AutoMaxResidentBytes">The largest target (resident memory) snapshotted without --snapshot: the pause grows
/// with the dump (P8: a 780 MB process wrote a 2.5 GB dump and stood still 22–33 s).</param>
internal sealed record SnapshotRequest(SnapshotMode Mode, bool KeepDump, double StuckMs = SnapshotRequest.DefaultStuckMs, bool WhileRunning = false,
    TimeSpan? Cooldown = null, long AutoMaxResidentBytes = SnapshotRequest.DefaultAutoMaxResidentBytes)
{
    public const double DefaultStuckMs = 5_000;
    public const long DefaultAutoMaxResidentBytes = 512L << 20;

    /// <summary>Ten minutes: a stuck process that keeps getting stuck is not dumped more often than that.</summary>
    public static readonly TimeSpan DefaultCooldown = TimeSpan.FromMinutes(10);

    /// <summary>How often a run that watches while it runs looks for stuck threads.</summary>
    public static readonly TimeSpan WatchInterval = TimeSpan.FromSeconds(1);

    /// <summary>The target's resident memory (Linux: VmRSS in /proc/PID/status); null where it cannot be read.</summary>
    public static long? ResidentBytes(int processId)
    {
        try
        {
            var line = File.ReadLines($"/proc/{processId}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is not null && long.TryParse(line["VmRSS:".Length..].Trim().Split(' ')[0], out var kb) ? kb * 1024 : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
