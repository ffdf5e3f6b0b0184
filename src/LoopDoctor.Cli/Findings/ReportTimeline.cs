namespace LoopDoctor.Cli.Findings;

/// <summary>
/// The session second by second (or in wider buckets once a long session is downsampled): point <c>i</c> covers
/// [i × <see cref="BucketSeconds"/>, (i + 1) × <see cref="BucketSeconds"/>) seconds of event time. Values a bucket
/// did not measure are null; counts are 0.
/// </summary>
internal sealed record ReportTimeline(double BucketSeconds, IReadOnlyList<TimelinePoint> Points, IReadOnlyList<TimelineEpisode> Episodes)
{
    /// <summary>The GC pauses over the lag threshold, exact (not bucketed), in time order.</summary>
    public IReadOnlyList<TimelineGcPause> GcPauses { get; init; } = [];
}

/// <summary>
/// One bucket: the agent's queue delay (p50, p99 of its one-second histograms, max with its gauge and spikes) and
/// timer lag in ms, the largest pool thread count seen, thread-count changes by reason, user blocking waits started,
/// contended lock acquisitions, unobserved task exceptions, and the time long callbacks held threads (ms).
/// </summary>
internal sealed record TimelinePoint(
    double? QueueDelayP50Ms,
    double? QueueDelayP99Ms,
    double? QueueDelayMaxMs,
    double? TimerLagMs,
    int? ThreadCount,
    int StarvationInjections,
    int CooperativeBlockingInjections,
    int OtherAdjustments,
    int BlockingWaits,
    int ContendedAcquisitions,
    int UnobservedExceptions,
    double LongCallbackMs);

/// <summary>A stretch of time with activity of one finding kind (consecutive buckets), in seconds of event time.</summary>
internal sealed record TimelineEpisode(string Kind, double StartSeconds, double EndSeconds);

/// <summary>One GC pause over the lag threshold, in seconds of event time: every managed thread stood still.</summary>
internal sealed record TimelineGcPause(double StartSeconds, double EndSeconds, int Generation, bool Induced);
