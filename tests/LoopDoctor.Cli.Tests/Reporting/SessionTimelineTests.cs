using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Projections;
using LoopDoctor.Cli.Runs;
using LoopDoctor.Cli.Signals;
using LoopDoctor.Cli.Tests.Detectors;

namespace LoopDoctor.Cli.Tests.Reporting;

/// <summary>The per-second timeline: what lands in which bucket, the episodes, and the bound on a long session.</summary>
public class SessionTimelineTests
{
    private static MetricHistogram Delay(double atMs, double p50Ms, double p99Ms) =>
        new(atMs, ThreadPoolStatistics.AgentMeter, ThreadPoolStatistics.QueueDelayInstrument, new Dictionary<double, double> { [0.5] = p50Ms / 1000, [0.99] = p99Ms / 1000 }, 100);

    [Fact]
    public void Signals_land_in_their_second_and_the_first_agent_interval_is_left_out()
    {
        var timeline = new SessionTimeline();
        timeline.Observe(Delay(500, 900, 900)); // the attach's own interval
        timeline.Observe(Delay(1_500, 2, 40));
        timeline.Observe(new PoolAdjustment(2_100, 1, 9, AdjustmentReason.CooperativeBlocking));
        timeline.Observe(new PoolAdjustment(2_200, 1, 10, AdjustmentReason.Starvation));
        timeline.Observe(new WaitStarted(2_300, 7, WaitSource.Unknown, SignalBuilder.PoolStack(SignalBuilder.Handler)));
        timeline.Observe(new ContentionStopped(3_400, 7, 5, SignalBuilder.PoolStack(SignalBuilder.Helper)));
        timeline.Observe(new MetricValue(3_500, ThreadPoolStatistics.AgentMeter, ThreadPoolStatistics.TimerLagCurrentInstrument, 0.75));

        var snapshot = timeline.Snapshot();

        Assert.Equal(1, snapshot.BucketSeconds);
        Assert.Equal(4, snapshot.Points.Count);
        Assert.Null(snapshot.Points[0].QueueDelayP99Ms);
        Assert.Equal(40, snapshot.Points[1].QueueDelayP99Ms);
        Assert.Equal(2, snapshot.Points[1].QueueDelayP50Ms);
        Assert.Equal((1, 1, 10, 1), (snapshot.Points[2].StarvationInjections, snapshot.Points[2].CooperativeBlockingInjections, snapshot.Points[2].ThreadCount, snapshot.Points[2].BlockingWaits));
        Assert.Equal(1, snapshot.Points[3].ContendedAcquisitions);
        Assert.Equal(750, snapshot.Points[3].TimerLagMs); // the overdue timer probe, seconds → ms
        Assert.Contains(new TimelineEpisode(FindingKinds.ThreadPoolStarvation, 2, 3), snapshot.Episodes);
        Assert.Contains(new TimelineEpisode(FindingKinds.LockContention, 3, 4), snapshot.Episodes);
        Assert.Contains(new TimelineEpisode(FindingKinds.HighLag, 3, 4), snapshot.Episodes); // the timer 750 ms overdue
    }

    [Fact]
    public void A_long_session_merges_buckets_pairwise_and_stays_bounded()
    {
        var timeline = new SessionTimeline();
        timeline.Observe(Delay(0, 1, 1));
        // 25 minutes, one agent interval a second, one slow second at minute 20.
        for (var s = 1; s < 1_500; s++)
        {
            timeline.Observe(Delay(s * 1000.0 + 10, 1, s == 1_200 ? 800 : 5));
            timeline.Observe(new WaitStarted(s * 1000.0 + 20, 3, WaitSource.MonitorWait, SignalBuilder.Stack()));
        }

        var snapshot = timeline.Snapshot();

        Assert.Equal(4, snapshot.BucketSeconds);
        Assert.True(snapshot.Points.Count <= SessionTimeline.MaxBuckets, snapshot.Points.Count.ToString());
        Assert.Equal(375, snapshot.Points.Count);
        Assert.Equal(800, snapshot.Points[300].QueueDelayP99Ms); // the worse value survives the merge
        Assert.Equal(4, snapshot.Points[10].BlockingWaits); // counts add up
        Assert.Equal(1_499, snapshot.Points.Sum(p => p.BlockingWaits));
    }

    [Fact]
    public void A_long_callback_episode_fills_the_seconds_it_spans()
    {
        var timeline = new SessionTimeline();
        timeline.AddLongCallback(1_500, 3_250);

        var points = timeline.Snapshot().Points;

        Assert.Equal(new double[] { 0, 500, 1000, 250 }, points.Select(p => p.LongCallbackMs));
    }

    [Fact]
    public void A_timestamp_that_is_not_a_number_lands_at_the_start()
    {
        var timeline = new SessionTimeline();
        timeline.Observe(new UnobservedTaskException(double.NaN, "System.Exception", "", ""));
        timeline.Observe(new UnobservedTaskException(double.PositiveInfinity, "System.Exception", "", ""));

        Assert.Equal(2, Assert.Single(timeline.Snapshot().Points).UnobservedExceptions);
    }

    [Fact]
    public void The_report_carries_the_timeline_of_the_pipeline()
    {
        var pipeline = new DiagnosisPipeline();
        pipeline.Observe(new PoolAdjustment(4_000, 1, 12, AdjustmentReason.Starvation));

        var report = pipeline.BuildReport(new TargetInfo(1, "app"), 5, AgentPresence.None);

        Assert.NotNull(report.Timeline);
        Assert.Equal(12, report.Timeline.Points[4].ThreadCount);
    }
}
