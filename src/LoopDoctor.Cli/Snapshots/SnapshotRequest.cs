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
/// <param name="AutoMaxResidentBytes">The largest target (resident memory) snapshotted without --snapshot: the pause grows
/// with the dump (P8: a 780 MB process wrote a 2.5 GB dump and stood still 22–33 s).</param>
internal sealed record SnapshotRequest(SnapshotMode Mode, bool KeepDump, double StuckMs = SnapshotRequest.DefaultStuckMs, long AutoMaxResidentBytes = SnapshotRequest.DefaultAutoMaxResidentBytes)
{
    public const double DefaultStuckMs = 5_000;
    public const long DefaultAutoMaxResidentBytes = 512L << 20;

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
