namespace LoopDoctor.Agent.Probes;

/// <summary>
/// A probe that posts a tiny work item to some queue and measures post → start. One item is outstanding at a time:
/// while it waits, ticks post nothing (a stalled queue is not flooded) and <see cref="LagProbe.CurrentDelay"/> rises.
/// The work item only writes a timestamp; recording happens on the sampler thread at its next tick.
/// </summary>
internal abstract class PostedLagProbe : LagProbe
{
    private long _postedAt;   // timestamp of the outstanding post; 0 = none outstanding
    private long _startedAt;  // written by the work item when it runs; 0 = not yet

    private protected PostedLagProbe(string name, TimeSpan interval, LagProbeOutputs? outputs, TimeProvider timeProvider)
        : base(name, interval, outputs, timeProvider)
    {
    }

    internal override void Tick(long now)
    {
        if (IsDisposed)
        {
            return;
        }

        long postedAt = Volatile.Read(ref _postedAt);
        if (postedAt != 0)
        {
            long startedAt = Volatile.Read(ref _startedAt);
            if (startedAt == 0)
            {
                return;  // still waiting: keep ticking, don't pile up another
            }

            Volatile.Write(ref _postedAt, 0);
            RecordSample(startedAt - postedAt, startedAt);
        }

        // Reset "started" before publishing "posted" so a reader that sees the new post never sees the old start.
        Volatile.Write(ref _startedAt, 0);
        Volatile.Write(ref _postedAt, NonZero(TimeProvider.GetTimestamp()));
        try
        {
            Post();
        }
        catch (Exception)
        {
            // The scheduler refused (shut down, full, disposed): nothing is outstanding; try again next tick.
            Volatile.Write(ref _postedAt, 0);
            CountCallbackError();
        }
    }

    internal override long CurrentDelayTicks(long now) => OutstandingTicks(now, Volatile.Read(ref _postedAt), Volatile.Read(ref _startedAt));

    /// <summary>Queues the probe's work item; the item must call <see cref="MarkStarted"/> when it runs.</summary>
    private protected abstract void Post();

    /// <summary>Called by the work item on the probed scheduler: one timestamp write, nothing else.</summary>
    private protected void MarkStarted()
    {
        if (Volatile.Read(ref _startedAt) == 0)
        {
            Volatile.Write(ref _startedAt, NonZero(TimeProvider.GetTimestamp()));
        }
    }

    private static long NonZero(long timestamp) => timestamp == 0 ? 1 : timestamp;
}
