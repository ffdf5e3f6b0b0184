namespace LoopDoctor.Cli.Snapshots;

/// <summary>
/// When a run takes a snapshot: once per episode of stuck threads (the episode ends when no thread is stuck any more),
/// and never sooner than the cooldown after the previous one, however often threads get stuck: each snapshot pauses the
/// target for seconds. Times are the session's elapsed time, so the schedule reads no clock of its own.
/// </summary>
internal sealed class SnapshotSchedule(TimeSpan cooldown)
{
    private bool _attemptedThisEpisode;
    private TimeSpan? _lastAttempt;

    /// <param name="wanted">Whether a snapshot is wanted now (threads are stuck, or --snapshot at the end).</param>
    /// <param name="elapsed">The session's elapsed time now.</param>
    public bool Due(bool wanted, TimeSpan elapsed)
    {
        if (!wanted)
        {
            _attemptedThisEpisode = false;
            return false;
        }

        return !_attemptedThisEpisode && (_lastAttempt is not { } last || elapsed - last >= cooldown);
    }

    /// <summary>A snapshot was attempted: taken, refused (a large target) or failed, it is not retried in the same episode.</summary>
    public void Attempted(TimeSpan elapsed)
    {
        _attemptedThisEpisode = true;
        _lastAttempt = elapsed;
    }
}
