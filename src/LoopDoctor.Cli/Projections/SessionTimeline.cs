using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Projections;

/// <summary>
/// The session in time buckets for the HTML report's charts and monitor's sparklines: one bucket per second of event
/// time until <see cref="MaxBuckets"/>, then neighbouring buckets merge pairwise (the bucket width doubles), so memory
/// and the report stay bounded however long the session runs. A merged bucket keeps the worse of its values and the
/// sum of its counts.
/// </summary>
/// <param name="lagThresholdMs">Queue delay or timer lag from which a second counts for the high-lag finding's episodes.</param>
internal sealed class SessionTimeline(double lagThresholdMs = 100) : IProjection
{
    /// <summary>Ten minutes at one-second resolution.</summary>
    public const int MaxBuckets = 600;

    private readonly List<Bucket> _buckets = [];
    private readonly HashSet<string> _histogramsSeen = [];
    private int _bucketSeconds = 1;

    /// <summary>Long-callback episodes are known only when they end (LongCallbacks): it reports them here.</summary>
    public void AddLongCallback(double startMs, double endMs)
    {
        for (var t = startMs; t < endMs;)
        {
            var bucket = At(t);
            var bucketEndMs = (Math.Floor(t / 1000 / _bucketSeconds) + 1) * _bucketSeconds * 1000;
            var end = Math.Min(endMs, bucketEndMs);
            bucket.LongCallbackMs += end - t;
            t = end;
        }
    }

    public void Observe(Signal signal)
    {
        // As in ThreadPoolStatistics: each histogram's first interval covers loopdoctor's own attach, not the app.
        if (signal is MetricHistogram histogram && _histogramsSeen.Add(histogram.MeterName + "/" + histogram.InstrumentName))
        {
            return;
        }

        switch (signal)
        {
            case MetricHistogram { MeterName: ThreadPoolStatistics.AgentMeter, InstrumentName: ThreadPoolStatistics.QueueDelayInstrument, Count: > 0 } delay:
            {
                var bucket = At(delay.TimestampMs);
                if (delay.Quantiles.TryGetValue(0.5, out var p50))
                {
                    bucket.DelayP50 = Max(bucket.DelayP50, p50 * 1000);
                }

                if (delay.Quantiles.TryGetValue(0.99, out var p99))
                {
                    bucket.DelayP99 = Max(bucket.DelayP99, p99 * 1000);
                    bucket.DelayMax = Max(bucket.DelayMax, p99 * 1000);
                }

                break;
            }
            case MetricValue { MeterName: ThreadPoolStatistics.AgentMeter, InstrumentName: ThreadPoolStatistics.QueueDelayCurrentInstrument } current when current.Value > 0:
                RaiseDelay(current.TimestampMs, current.Value * 1000);
                break;
            case QueueDelaySpike spike:
                RaiseDelay(spike.TimestampMs, spike.DelayMs, spike: true);
                break;
            case MetricHistogram { MeterName: ThreadPoolStatistics.AgentMeter, InstrumentName: ThreadPoolStatistics.TimerLagInstrument, Count: > 0 } lag
                when lag.Quantiles.TryGetValue(0.99, out var lagP99):
                RaiseTimerLag(lag.TimestampMs, lagP99 * 1000);
                break;
            // While a stall lasts no timer callback runs, so no histogram interval has a count: the overdue gauge tells.
            case MetricValue { MeterName: ThreadPoolStatistics.AgentMeter, InstrumentName: ThreadPoolStatistics.TimerLagCurrentInstrument } overdue when overdue.Value > 0:
                RaiseTimerLag(overdue.TimestampMs, overdue.Value * 1000);
                break;
            case TimerLagSpike spike:
                RaiseTimerLag(spike.TimestampMs, spike.LagMs, spike: true);
                break;
            case PoolAdjustment adjustment:
            {
                var bucket = At(adjustment.TimestampMs);
                switch (adjustment.Reason)
                {
                    case AdjustmentReason.Starvation:
                        bucket.Starvation++;
                        break;
                    case AdjustmentReason.CooperativeBlocking:
                        bucket.CooperativeBlocking++;
                        break;
                    default:
                        bucket.OtherAdjustments++;
                        break;
                }

                ThreadCount(bucket, adjustment.NewWorkerThreadCount);
                break;
            }
            case PoolThreadSeen { ActiveWorkerCount: { } active } seen:
                ThreadCount(At(seen.TimestampMs), active);
                break;
            case MetricValue { MeterName: ThreadPoolStatistics.RuntimeMeter, InstrumentName: ThreadPoolStatistics.ThreadCountInstrument } count:
                ThreadCount(At(count.TimestampMs), (int)count.Value);
                break;
            // Counted as BlockingWaits counts them: the user's waits, not the lock's.
            case WaitStarted wait when BlockingWaits.IsUserWait(wait) && wait.Stack.BlockingApi != CallStack.LockApi:
                At(wait.TimestampMs).BlockingWaits++;
                break;
            case ContentionStopped contention:
                At(contention.TimestampMs).Contentions++;
                break;
            case UnobservedTaskException exception:
                At(exception.TimestampMs).Exceptions++;
                break;
        }
    }

    /// <summary>The buckets so far, and each finding kind's stretches of activity.</summary>
    public ReportTimeline Snapshot()
    {
        var points = _buckets.Select(b => new TimelinePoint(
            Round(b.DelayP50), Round(b.DelayP99), Round(b.DelayMax), Round(b.TimerLag), b.Threads,
            b.Starvation, b.CooperativeBlocking, b.OtherAdjustments, b.BlockingWaits, b.Contentions, b.Exceptions, Math.Round(b.LongCallbackMs, 1))).ToList();
        List<TimelineEpisode> episodes = [];
        AddEpisodes(episodes, FindingKinds.ThreadPoolStarvation, b => b.Starvation + b.CooperativeBlocking > 0);
        AddEpisodes(episodes, FindingKinds.BlockingWait, b => b.BlockingWaits > 0);
        AddEpisodes(episodes, FindingKinds.LockContention, b => b.Contentions > 0);
        AddEpisodes(episodes, FindingKinds.LongCallback, b => b.LongCallbackMs > 0);
        AddEpisodes(episodes, FindingKinds.UnobservedTaskException, b => b.Exceptions > 0);
        AddEpisodes(episodes, FindingKinds.HighLag, b => b.LagSpikes > 0 || b.DelayMax >= lagThresholdMs || b.TimerLag >= lagThresholdMs);
        return new ReportTimeline(_bucketSeconds, points, episodes);
    }

    private void AddEpisodes(List<TimelineEpisode> episodes, string kind, Func<Bucket, bool> active)
    {
        int? start = null;
        for (var i = 0; i <= _buckets.Count; i++)
        {
            var on = i < _buckets.Count && active(_buckets[i]);
            if (on && start is null)
            {
                start = i;
            }
            else if (!on && start is { } s)
            {
                episodes.Add(new TimelineEpisode(kind, s * _bucketSeconds, i * _bucketSeconds));
                start = null;
            }
        }
    }

    private Bucket At(double timestampMs)
    {
        // A timestamp that is not a number lands at the start rather than breaking the session's report.
        var index = double.IsFinite(timestampMs) ? (int)Math.Clamp(Math.Floor(timestampMs / 1000 / _bucketSeconds), 0, int.MaxValue / 2) : 0;
        while (index >= MaxBuckets)
        {
            Halve();
            index /= 2;
        }

        while (_buckets.Count <= index)
        {
            _buckets.Add(new Bucket());
        }

        return _buckets[index];
    }

    private void Halve()
    {
        var merged = new List<Bucket>((_buckets.Count + 1) / 2);
        for (var i = 0; i < _buckets.Count; i += 2)
        {
            merged.Add(i + 1 < _buckets.Count ? _buckets[i].MergedWith(_buckets[i + 1]) : _buckets[i]);
        }

        _buckets.Clear();
        _buckets.AddRange(merged);
        _bucketSeconds *= 2;
    }

    private void RaiseDelay(double timestampMs, double delayMs, bool spike = false)
    {
        var bucket = At(timestampMs);
        bucket.DelayMax = Max(bucket.DelayMax, delayMs);
        bucket.LagSpikes += spike ? 1 : 0;
    }

    private void RaiseTimerLag(double timestampMs, double lagMs, bool spike = false)
    {
        var bucket = At(timestampMs);
        bucket.TimerLag = Max(bucket.TimerLag, lagMs);
        bucket.LagSpikes += spike ? 1 : 0;
    }

    private static void ThreadCount(Bucket bucket, int count)
    {
        if (count > 0)
        {
            bucket.Threads = Math.Max(bucket.Threads ?? 0, count);
        }
    }

    private static double? Max(double? a, double b) => a is { } x ? Math.Max(x, b) : b;

    private static double? Max(double? a, double? b) => b is { } y ? Max(a, y) : a;

    private static double? Round(double? value) => value is { } v ? Math.Round(v, 2) : null;

    private sealed class Bucket
    {
        public double? DelayP50;
        public double? DelayP99;
        public double? DelayMax;
        public double? TimerLag;
        public int? Threads;
        public int Starvation;
        public int CooperativeBlocking;
        public int OtherAdjustments;
        public int BlockingWaits;
        public int Contentions;
        public int Exceptions;
        public int LagSpikes;
        public double LongCallbackMs;

        public Bucket MergedWith(Bucket next) => new()
        {
            DelayP50 = Max(DelayP50, next.DelayP50),
            DelayP99 = Max(DelayP99, next.DelayP99),
            DelayMax = Max(DelayMax, next.DelayMax),
            TimerLag = Max(TimerLag, next.TimerLag),
            Threads = Threads is { } t ? Math.Max(t, next.Threads ?? 0) : next.Threads,
            Starvation = Starvation + next.Starvation,
            CooperativeBlocking = CooperativeBlocking + next.CooperativeBlocking,
            OtherAdjustments = OtherAdjustments + next.OtherAdjustments,
            BlockingWaits = BlockingWaits + next.BlockingWaits,
            Contentions = Contentions + next.Contentions,
            Exceptions = Exceptions + next.Exceptions,
            LagSpikes = LagSpikes + next.LagSpikes,
            LongCallbackMs = LongCallbackMs + next.LongCallbackMs,
        };
    }
}
