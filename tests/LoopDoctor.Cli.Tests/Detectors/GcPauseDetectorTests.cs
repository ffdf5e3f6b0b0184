using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Signals;
using static LoopDoctor.Cli.Tests.Detectors.SignalBuilder;

namespace LoopDoctor.Cli.Tests.Detectors;

public class GcPauseDetectorTests
{
    private const string Refresh = "MyApp.Reports.ReportCache.Refresh";

    /// <summary>A GC pause from <paramref name="from"/> to <paramref name="to"/> with the collection inside it.</summary>
    private static SignalBuilder Pause(SignalBuilder s, double from, double to, int generation, GcReason reason, CallStack? triggeredBy = null) =>
        s.Add(new GcSuspensionStarted(from, 1))
            .Add(new GcSuspended(from + 1, 1))
            .Add(new GcStarted(from + 1, 1, 1, generation, reason, GcType.Blocking, triggeredBy ?? CallStack.Empty))
            .Add(new GcRestarted(to, 1));

    [Fact]
    public void Induced_pauses_over_the_threshold_name_the_GC_Collect_call_site_and_explain_the_lag()
    {
        var s = new SignalBuilder();
        var collect = Stack("System.GC.Collect", Refresh, "MyApp.Program.Main");
        Pause(s, 1000, 1300, 2, GcReason.Induced, collect);
        Pause(s, 2000, 2250, 2, GcReason.Induced, collect);
        Pause(s, 2500, 2502, 0, GcReason.SmallObjectAllocation);
        // The agent's probes: late by the pauses (each written when the probe finally ran).
        s.Add(new QueueDelaySpike(1300, 290, 100)).Add(new QueueDelaySpike(2250, 240, 100)).Add(new QueueDelaySpike(3000, 120, 100));

        var finding = s.Find(FindingKinds.GcPause);
        Assert.NotNull(finding);
        Assert.Equal(2, finding.Count);
        Assert.Equal(550, finding.TotalMilliseconds, 3);
        Assert.Equal(300, finding.MaxMilliseconds, 3);
        Assert.Equal(Refresh, finding.CallSites[0].Frames[0]);
        Assert.Equal("GC.Collect", finding.CallSites[0].BlockingApi);
        Assert.Contains("induced by GC.Collect", finding.Title);
        Assert.Contains(finding.Evidence, e => e.StartsWith("82% of the lag", StringComparison.Ordinal));
        Assert.Equal(Advice.GcPauseInduced, finding.Advice);
    }

    [Fact]
    public void A_sample_profiler_suspension_that_ends_inside_a_GC_pause_does_not_cut_it_short()
    {
        // Measured on gc-induced under `diagnose`: the profiler (thread 9) finished its own suspension just after the GC
        // (thread 1) asked for one; pairing that restart with the GC's start lost most induced pauses.
        var s = new SignalBuilder();
        var collect = Stack("System.GC.Collect", Refresh, "MyApp.Program.Main");
        s.Add(new GcSuspended(999, 9))
            .Add(new GcSuspensionStarted(1000, 1))
            .Add(new GcRestarted(1000.2, 9))
            .Add(new GcSuspended(1001, 1))
            .Add(new GcStarted(1001, 1, 1, 2, GcReason.Induced, GcType.Blocking, collect))
            .Add(new GcSuspended(1100, 9))
            .Add(new GcRestarted(1120, 1))
            .Add(new GcRestarted(1121, 9));
        s.Add(new TimerLagSpike(1125, 110, 100));

        var finding = s.Find(FindingKinds.GcPause);
        Assert.NotNull(finding);
        Assert.Equal(1, finding.Count);
        Assert.Equal(120, finding.MaxMilliseconds, 3);
        Assert.Contains(finding.Evidence, e => e.StartsWith("95% of the lag", StringComparison.Ordinal));
    }

    [Fact]
    public void Pauses_under_the_threshold_raise_nothing()
    {
        var s = new SignalBuilder();
        for (var i = 0; i < 200; i++)
        {
            Pause(s, i * 10, i * 10 + 3, 0, GcReason.SmallObjectAllocation);
        }

        Assert.Null(s.Find(FindingKinds.GcPause));
    }

    [Fact]
    public void Allocation_driven_pauses_name_the_top_allocating_call_sites()
    {
        var s = new SignalBuilder();
        for (var i = 0; i < 90; i++)
        {
            s.Add(new AllocationSampled(i, 5, 100_000, "System.Byte[]", PoolStack(Helper, Handler)));
        }

        for (var i = 0; i < 10; i++)
        {
            s.Add(new AllocationSampled(100 + i, 6, 100_000, "System.String", PoolStack(Handler)));
        }

        Pause(s, 1000, 1200, 1, GcReason.SmallObjectAllocation);
        var finding = s.Find(FindingKinds.GcPause);
        Assert.NotNull(finding);
        Assert.Equal(Helper, finding.CallSites[0].Frames[0]);
        Assert.Equal(Handler, finding.CallSites[1].Frames[0]);
        Assert.Contains(finding.Evidence, e => e.Contains("(90% of the sampled allocations), mostly System.Byte[]", StringComparison.Ordinal));
        Assert.Equal(Advice.GcPauseAllocation, finding.Advice);
    }

    [Fact]
    public void Lag_mostly_inside_pauses_is_not_starvation_and_a_suspended_work_item_is_not_a_long_callback()
    {
        var s = new SignalBuilder().Worker(7, 0);
        // A pool thread computing 60 ms, suspended 400 ms by the GC, then 20 ms more: 480 ms of which 80 ms its own.
        s.Samples(7, 900, 960, SampleKind.Managed, PoolStack(Handler));
        Pause(s, 960, 1360, 2, GcReason.SmallObjectAllocation);
        s.Samples(7, 1360, 1380, SampleKind.Managed, PoolStack(Handler)).Worker(7, 1381);
        s.Add(new QueueDelaySpike(1360, 390, 100)).Add(new QueueDelaySpike(1361, 380, 100)).Add(new TimerLagSpike(1362, 350, 100));

        var report = s.Report();
        Assert.DoesNotContain(report.Findings, f => f.Kind == FindingKinds.LongCallback);
        Assert.DoesNotContain(report.Findings, f => f.Kind == FindingKinds.ThreadPoolStarvation);
        var lag = Assert.Single(report.Findings, f => f.Kind == FindingKinds.HighLag);
        Assert.Equal([FindingKinds.GcPause], lag.ExplainedBy);
        Assert.Contains("mostly inside GC pauses", lag.Title);
    }
    // A pool thread's wait, work or parked samples around a 400 ms GC pause: 80 ms its own, 480 ms on the clock.
    private static SignalBuilder AroundPause(bool pause, Func<SignalBuilder, double, double, SignalBuilder> ownTime)
    {
        var s = ownTime(new SignalBuilder().Worker(7, 0), 900, 960);
        if (pause)
        {
            Pause(s, 960, 1360, 2, GcReason.SmallObjectAllocation);
        }

        return ownTime(s, 1360, 1380);
    }

    [Theory]
    [InlineData(false, 480)]
    [InlineData(true, 80)]
    public void A_blocking_wait_the_GC_suspended_counts_only_its_own_time(bool pause, double expectedMs)
    {
        var stack = PoolStack("System.Threading.Tasks.Task`1.get_Result", Handler);
        var s = AroundPause(pause, (b, from, to) => from < 1000 ? b.Add(new WaitStarted(from, 7, WaitSource.MonitorWait, stack)) : b.Add(new WaitStopped(to, 7)));

        var finding = s.Find(FindingKinds.BlockingWait);
        Assert.NotNull(finding);
        Assert.Equal(expectedMs, finding.MaxMilliseconds, 3);
        Assert.Equal(expectedMs, finding.TotalMilliseconds, 3);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void An_open_wait_or_work_item_whose_excess_lies_inside_a_GC_pause_is_no_finding(bool pause)
    {
        var waiting = AroundPause(pause, (b, from, _) => from < 1000 ? b.Add(new WaitStarted(from, 7, WaitSource.MonitorWait, PoolStack(Handler))) : b)
            .Add(new StackSample(1380, 1, SampleKind.External, Stack("MyApp.Program.Main")));
        var computing = AroundPause(pause, (b, from, to) => b.Samples(7, from, to, SampleKind.Managed, PoolStack(Handler)));
        var parked = AroundPause(pause, (b, from, to) => b.Samples(7, from, to, SampleKind.External,
            new CallStack(["System.Threading.Monitor.Wait", "System.Threading.Tasks.Task`1.get_Result", Handler, "System.Threading.ThreadPoolWorkQueue.Dispatch", "System.Threading.PortableThreadPool.WorkerThread.WorkerThreadStart"])));

        Assert.Equal(!pause, waiting.Find(FindingKinds.BlockingWait) is not null);
        Assert.Equal(!pause, computing.Find(FindingKinds.LongCallback) is not null);
        Assert.Equal(!pause, parked.Find(FindingKinds.BlockingWait) is not null);
    }

    [Fact]
    public void A_parked_run_of_samples_the_GC_suspended_counts_only_its_own_time()
    {
        var parked = new CallStack(["System.Threading.Monitor.Wait", "System.Threading.Tasks.Task`1.get_Result", Handler, "System.Threading.ThreadPoolWorkQueue.Dispatch", "System.Threading.PortableThreadPool.WorkerThread.WorkerThreadStart"]);
        var s = AroundPause(true, (b, from, to) => b.Samples(7, from, to, SampleKind.External, parked)).Worker(7, 1381);

        var finding = s.Find(FindingKinds.BlockingWait);
        Assert.NotNull(finding);
        Assert.True(finding.Estimated);
        Assert.Equal(80, finding.MaxMilliseconds, 3);
    }

    [Fact]
    public void A_long_callback_the_GC_suspended_reports_its_own_time()
    {
        var s = new SignalBuilder().Worker(7, 0).Samples(7, 900, 1100, SampleKind.Managed, PoolStack(Handler));
        Pause(s, 1100, 1500, 2, GcReason.SmallObjectAllocation);
        s.Samples(7, 1500, 1550, SampleKind.Managed, PoolStack(Handler)).Worker(7, 1551);

        var finding = s.Find(FindingKinds.LongCallback);
        Assert.NotNull(finding);
        Assert.Equal(250, finding.MaxMilliseconds, 3);
    }
}
