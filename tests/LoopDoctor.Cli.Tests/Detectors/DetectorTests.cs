using LoopDoctor.Cli.Projections;
using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Signals;
using static LoopDoctor.Cli.Tests.Detectors.SignalBuilder;

namespace LoopDoctor.Cli.Tests.Detectors;

public class BlockingWaitDetectorTests
{
    [Fact]
    public void Sync_over_async_on_pool_threads_is_named_with_its_call_site_ranked_by_total_time()
    {
        var s = new SignalBuilder().Worker(7, 0).Worker(8, 0);
        var resultStack = Stack("System.Threading.Tasks.Task`1.get_Result", Handler, "System.Threading.ThreadPoolWorkQueue.Dispatch");
        for (var i = 0; i < 10; i++)
        {
            s.Wait(7, 10 + i * 100, 60 + i * 100, resultStack);
        }

        s.Wait(8, 5, 25, PoolStack(Helper));

        var finding = s.Find(FindingKinds.BlockingWait);
        Assert.NotNull(finding);
        Assert.Equal(11, finding.Count);
        Assert.Equal(520, finding.TotalMilliseconds, 3);
        Assert.Equal(50, finding.MaxMilliseconds, 3);
        Assert.Equal(Handler, finding.CallSites[0].Frames[0]);
        Assert.Equal(".Result", finding.CallSites[0].BlockingApi);
        Assert.Equal(Helper, finding.CallSites[1].Frames[0]);
        Assert.Contains("Sync-over-async", finding.Title);
        Assert.Contains("await", finding.Advice);
        Assert.True(finding.Severity >= Severity.Warning);
    }

    [Fact]
    public void The_gate_thread_and_other_non_pool_threads_are_excluded()
    {
        var s = new SignalBuilder().Worker(7, 0);
        // Gate thread: WaitSource Unknown, only framework frames, ~500 ms twice a second.
        for (var i = 0; i < 20; i++)
        {
            s.Wait(3, i * 500, i * 500 + 499, Stack("System.Threading.PortableThreadPool.GateThread.GateThreadStart"), WaitSource.Unknown);
        }

        // Main thread blocked in app code, never a pool worker.
        s.Wait(1, 0, 5000, Stack("MyApp.Program.Main"));

        Assert.Null(s.Find(FindingKinds.BlockingWait));
    }

    [Fact]
    public void A_wait_inside_Monitor_Enter_is_the_locks_even_without_its_ContentionStart()
    {
        // Under load the ContentionStart can be lost or arrive late; the stack still says it is a lock wait.
        var s = new SignalBuilder().Worker(7, 0)
            .Wait(7, 0, 300, PoolStack("System.Threading.Monitor.Enter", Handler), WaitSource.Unknown)
            .Wait(7, 400, 700, PoolStack("System.Threading.Tasks.Task`1.get_Result", Handler));
        var finding = s.Find(FindingKinds.BlockingWait);
        Assert.Equal(1, finding?.Count);
        Assert.Equal(".Result", finding!.CallSites[0].BlockingApi);
    }

    [Fact]
    public void A_thread_recognized_as_a_worker_later_still_counts_for_its_earlier_waits()
    {
        var s = new SignalBuilder().Wait(9, 0, 300, Stack(Handler)).Worker(9, 400);
        Assert.Equal(1, s.Find(FindingKinds.BlockingWait)?.Count);
    }

    [Fact]
    public void A_wait_still_in_progress_at_the_end_is_reported()
    {
        var s = new SignalBuilder().Worker(7, 0)
            .Add(new WaitStarted(100, 7, WaitSource.MonitorWait, PoolStack(Handler)))
            .Add(new StackSample(2100, 1, SampleKind.External, Stack("MyApp.Program.Main")));
        var finding = s.Find(FindingKinds.BlockingWait);
        Assert.NotNull(finding);
        Assert.Equal(2000, finding.MaxMilliseconds, 3);
    }

    [Fact]
    public void Waits_inside_a_contended_lock_belong_to_lock_contention()
    {
        var s = new SignalBuilder().Worker(7, 0)
            .Add(new ContentionStarted(10, 7, PoolStack(Handler)))
            .Wait(7, 11, 200, PoolStack(Handler))
            .Add(new ContentionStopped(200, 7, 190, PoolStack(Handler)));
        Assert.Null(s.Find(FindingKinds.BlockingWait));
        Assert.Equal(190, s.Find(FindingKinds.LockContention)?.TotalMilliseconds);
    }
}

public class LockContentionDetectorTests
{
    [Fact]
    public void Contention_is_summed_by_call_site()
    {
        var s = new SignalBuilder();
        for (var i = 0; i < 5; i++)
        {
            s.Add(new ContentionStarted(i * 100, 7 + i, PoolStack(Helper, Handler)))
             .Add(new ContentionStopped(i * 100 + 40, 7 + i, 40, PoolStack(Helper, Handler)));
        }

        s.Add(new ContentionStopped(900, 20, 2, PoolStack("MyApp.Cache.Get")));
        var finding = s.Find(FindingKinds.LockContention);
        Assert.NotNull(finding);
        Assert.Equal(6, finding.Count);
        Assert.Equal(202, finding.TotalMilliseconds, 3);
        Assert.Equal([Helper, Handler], finding.CallSites[0].Frames);
        Assert.Equal(Severity.Warning, finding.Severity);
    }

    [Fact]
    public void Rare_short_contention_is_only_info()
    {
        var s = new SignalBuilder().Add(new ContentionStopped(10, 7, 0.5, PoolStack(Handler)));
        Assert.Equal(Severity.Info, s.Find(FindingKinds.LockContention)?.Severity);
        Assert.Equal(Verdict.Healthy, s.Report().Verdict);
    }
}

public class LongCallbackDetectorTests
{
    [Fact]
    public void A_300ms_cpu_loop_is_a_long_callback_classified_cpu()
    {
        var s = new SignalBuilder().Worker(7, 0)
            .Samples(7, 0, 10, SampleKind.External, PoolStack())
            .Samples(7, 11, 311, SampleKind.Managed, PoolStack("MyApp.Pricing.Compute", Handler))
            .Samples(7, 312, 330, SampleKind.External, PoolStack());
        var finding = s.Find(FindingKinds.LongCallback);
        Assert.NotNull(finding);
        Assert.Equal(1, finding.Count);
        Assert.Equal(300, finding.MaxMilliseconds, 3);
        Assert.Equal("cpu", finding.CallSites[0].Activity);
        Assert.Equal("MyApp.Pricing.Compute", finding.CallSites[0].Frames[0]);
        Assert.Equal(Advice.LongCallbackCpu, finding.Advice);
        Assert.Equal(Severity.Warning, finding.Severity);
    }

    [Fact]
    public void One_marginal_long_callback_is_info_and_frequent_ones_a_warning()
    {
        var s = new SignalBuilder().Worker(7, 0)
            .Samples(7, 0, 130, SampleKind.Managed, PoolStack(Handler))
            .Samples(7, 131, 140, SampleKind.External, PoolStack());
        Assert.Equal(Severity.Info, s.Find(FindingKinds.LongCallback)?.Severity);
        for (var i = 1; i <= 2; i++)
        {
            s.Samples(7, i * 1000, i * 1000 + 130, SampleKind.Managed, PoolStack(Handler))
             .Samples(7, i * 1000 + 131, i * 1000 + 140, SampleKind.External, PoolStack());
        }

        Assert.Equal(Severity.Warning, s.Find(FindingKinds.LongCallback)?.Severity);
    }

    [Fact]
    public void Thread_sleep_is_blocked_in_native_code()
    {
        var s = new SignalBuilder().Worker(7, 0)
            .Samples(7, 0, 250, SampleKind.External, PoolStack("System.Threading.Thread.Sleep", Handler))
            .Samples(7, 251, 260, SampleKind.External, PoolStack());
        var finding = s.Find(FindingKinds.LongCallback);
        Assert.NotNull(finding);
        Assert.Equal("blocked", finding.CallSites[0].Activity);
        Assert.Equal(Advice.LongCallbackBlocked, finding.Advice);
    }

    [Fact]
    public void Work_items_under_the_threshold_are_ignored()
    {
        var s = new SignalBuilder().Worker(7, 0);
        for (var i = 0; i < 10; i++)
        {
            s.Samples(7, i * 100, i * 100 + 50, SampleKind.Managed, PoolStack(Handler))
             .Samples(7, i * 100 + 51, i * 100 + 99, SampleKind.External, PoolStack());
        }

        Assert.Null(s.Find(FindingKinds.LongCallback));
    }

    [Fact]
    public void A_new_work_item_on_the_same_thread_ends_the_episode()
    {
        var s = new SignalBuilder().Worker(7, 0)
            .Samples(7, 0, 80, SampleKind.Managed, PoolStack(Handler))
            .Add(new PoolThreadSeen(81, 7))
            .Samples(7, 82, 160, SampleKind.Managed, PoolStack(Handler));
        Assert.Null(s.Find(FindingKinds.LongCallback));
    }

    [Fact]
    public void A_pool_event_older_than_the_episode_does_not_end_it()
    {
        // monitor's on-lag samples come from a second session and can run ahead of the main one's pool events.
        var s = new SignalBuilder().Worker(7, 0)
            .Samples(7, 100, 200, SampleKind.Managed, PoolStack(Handler))
            .Add(new PoolThreadSeen(50, 7))
            .Samples(7, 201, 300, SampleKind.Managed, PoolStack(Handler))
            .Add(new PoolThreadSeen(301, 7));
        var finding = s.Find(FindingKinds.LongCallback);
        Assert.NotNull(finding);
        Assert.Equal(200, finding.MaxMilliseconds, 3);
    }

    [Fact]
    public void Time_in_a_blocking_wait_is_left_to_blocking_wait()
    {
        var s = new SignalBuilder().Worker(7, 0)
            .Add(new WaitStarted(0, 7, WaitSource.MonitorWait, PoolStack(Handler)))
            .Samples(7, 1, 400, SampleKind.External, PoolStack(Handler))
            .Add(new WaitStopped(400, 7))
            .Samples(7, 401, 410, SampleKind.External, PoolStack());
        Assert.Null(s.Find(FindingKinds.LongCallback));
        Assert.NotNull(s.Find(FindingKinds.BlockingWait));
    }

    [Fact]
    public void Non_pool_threads_are_not_callbacks()
    {
        var s = new SignalBuilder().Samples(1, 0, 1000, SampleKind.External, Stack("MyApp.Program.Main"));
        Assert.Null(s.Find(FindingKinds.LongCallback));
    }
}

public class StarvationDetectorTests
{
    [Fact]
    public void Cooperative_blocking_injections_with_blocked_threads_and_growth_mean_starving()
    {
        var s = new SignalBuilder();
        for (var i = 0; i < 6; i++)
        {
            s.Worker(10 + i, i).Add(new WaitStarted(i * 10, 10 + i, WaitSource.MonitorWait, PoolStack(Handler)));
            s.Add(new PoolAdjustment(i * 10 + 5, 3, 4 + i, AdjustmentReason.CooperativeBlocking));
        }

        s.Add(new MetricValue(100, ThreadPoolStatistics.RuntimeMeter, ThreadPoolStatistics.QueueLengthInstrument, 3))
         .Add(new MetricValue(1100, ThreadPoolStatistics.RuntimeMeter, ThreadPoolStatistics.QueueLengthInstrument, 40));
        var report = s.Report();
        var finding = Assert.Single(report.Findings, f => f.Kind == FindingKinds.ThreadPoolStarvation);
        Assert.Equal(Severity.Critical, finding.Severity);
        Assert.Equal(Verdict.Starving, report.Verdict);
        Assert.Equal(6, report.ThreadPool.Injections.CooperativeBlocking);
        Assert.Equal(9, report.ThreadPool.ThreadCountMax);
        Assert.Equal(40, report.ThreadPool.QueueLengthMax);
        Assert.Contains(finding.Evidence, e => e.Contains("6 thread(s)") && e.Contains("CooperativeBlocking"));
        Assert.Contains(finding.Evidence, e => e.Contains("Up to 6 threads were blocked"));
    }

    [Fact]
    public void Starvation_injections_alone_are_critical()
    {
        var s = new SignalBuilder().Add(new PoolAdjustment(10, 3, 5, AdjustmentReason.Starvation));
        Assert.Equal(Severity.Critical, s.Find(FindingKinds.ThreadPoolStarvation)?.Severity);
    }

    [Fact]
    public void Hill_climbing_on_a_healthy_pool_is_not_starvation()
    {
        var s = new SignalBuilder();
        var reasons = new[] { AdjustmentReason.Warmup, AdjustmentReason.ClimbingMove, AdjustmentReason.Stabilizing, AdjustmentReason.RandomMove };
        for (var i = 0; i < 40; i++)
        {
            s.Add(new PoolAdjustment(i * 100, 3, 2 + (i % 4), reasons[i % reasons.Length]));
        }

        var report = s.Report();
        Assert.Empty(report.Findings);
        Assert.Equal(Verdict.Healthy, report.Verdict);
    }

    [Fact]
    public void The_agents_queue_delay_feeds_percentiles_and_high_lag()
    {
        var s = new SignalBuilder();
        // The first interval covers our own attach and is ignored.
        s.Add(new MetricHistogram(0, ThreadPoolStatistics.AgentMeter, ThreadPoolStatistics.QueueDelayInstrument,
            new Dictionary<double, double> { [0.5] = 9, [0.95] = 9, [0.99] = 9 }, 100));
        for (var i = 1; i <= 10; i++)
        {
            s.Add(new MetricHistogram(i * 1000, ThreadPoolStatistics.AgentMeter, ThreadPoolStatistics.QueueDelayInstrument,
                new Dictionary<double, double> { [0.5] = 0.002, [0.95] = 0.1, [0.99] = i == 5 ? 1.5 : 0.2 }, 100));
        }

        s.Add(new QueueDelaySpike(5500, 2500, 100));
        var report = s.Report();
        Assert.Equal(new Percentiles(2, 1500, 2500), report.ThreadPool.QueueDelayMilliseconds);
        Assert.Equal(Severity.Critical, report.Findings.Single(f => f.Kind == FindingKinds.HighLag).Severity);
        Assert.Contains(report.Findings, f => f.Kind == FindingKinds.ThreadPoolStarvation);
    }

    [Theory]
    [InlineData(new double[] { 101 }, false)]      // one probe just over the threshold: a blip, not judged
    [InlineData(new double[] { 199 }, false)]
    [InlineData(new double[] { 200 }, true)]       // one probe over twice the threshold
    [InlineData(new double[] { 101, 105 }, true)]  // two probes over it
    public void One_probe_just_over_the_threshold_is_a_blip_not_high_lag(double[] spikesMs, bool highLag)
    {
        var s = new SignalBuilder();
        foreach (var (delay, i) in spikesMs.Select((d, i) => (d, i)))
        {
            s.Add(new QueueDelaySpike(1000 + (i * 500), delay, 100));
        }

        var report = s.Report();
        Assert.Equal(highLag, report.Findings.Any(f => f.Kind == FindingKinds.HighLag));
        Assert.Equal(spikesMs.Max(), report.ThreadPool.QueueDelayMilliseconds?.Max);
    }
}

public class UnobservedTaskExceptionDetectorTests
{
    [Fact]
    public void Exceptions_are_grouped_by_type_with_the_throwing_frame()
    {
        const string trace = "   at MyApp.Jobs.Sender.SendAsync() in /src/Sender.cs:line 12\n   at System.Threading.Tasks.Task.Run()\n   at MyApp.Jobs.Sender.<Fire>b__0_0()";
        var s = new SignalBuilder()
            .Add(new UnobservedTaskException(10, "System.InvalidOperationException", trace, ""))
            .Add(new UnobservedTaskException(20, "System.InvalidOperationException", trace, ""))
            .Add(new UnobservedTaskException(30, "System.TimeoutException", "", ""));
        var findings = s.Report().Findings.Where(f => f.Kind == FindingKinds.UnobservedTaskException).ToList();
        Assert.Equal(2, findings.Count);
        Assert.Equal("System.InvalidOperationException", findings[0].ExceptionType);
        Assert.Equal(2, findings[0].Count);
        Assert.Equal("MyApp.Jobs.Sender.SendAsync", findings[0].CallSites[0].Frames[0]);
        Assert.Equal(Severity.Warning, findings[0].Severity);
    }
}

public class LongCallbackWaitTests
{
    [Fact]
    public void User_code_calling_straight_into_unresolved_native_code_is_blocked()
    {
        var s = new SignalBuilder().Worker(7, 0)
            .Samples(7, 0, 300, SampleKind.External, PoolStack(SignalBuilder.Handler));
        Assert.Equal("blocked", s.Find(FindingKinds.LongCallback)?.CallSites[0].Activity);
    }

    [Fact]
    public void Native_computing_without_a_blocking_api_counts_as_cpu()
    {
        var s = new SignalBuilder().Worker(7, 0)
            .Samples(7, 0, 300, SampleKind.External, PoolStack("Interop.Crypto.EvpDigestOneShot", "System.Security.Cryptography.SHA256.HashData", SignalBuilder.Handler));
        Assert.Equal("cpu", s.Find(FindingKinds.LongCallback)?.CallSites[0].Activity);
    }

    [Fact]
    public void Threads_that_only_queue_work_or_gate_the_pool_are_not_workers()
    {
        var s = new SignalBuilder()
            .Samples(30, 0, 300, SampleKind.Managed, SignalBuilder.Stack("System.Threading.PortableThreadPool.WorkerThread.MaybeAddWorkingWorker", "System.Threading.ThreadPoolWorkQueue.Enqueue", "MyApp.Worker.Run", "System.Threading.Thread.StartCallback"));
        Assert.Null(s.Find(FindingKinds.LongCallback));
    }

    [Fact]
    public void A_thread_parked_in_a_task_wait_since_before_the_session_is_not_a_long_callback()
    {
        var s = new SignalBuilder().Worker(7, 0)
            .Samples(7, 0, 500, SampleKind.External, PoolStack("System.Threading.Monitor.Wait", "System.Threading.Tasks.Task`1.get_Result", SignalBuilder.Handler));
        Assert.Null(s.Find(FindingKinds.LongCallback));
    }
}

public class LagBlipTests
{
    [Fact]
    public void A_single_marginal_queue_delay_interval_is_not_lag()
    {
        var s = new SignalBuilder();
        var p99s = new[] { 0.5, 0.01, 0.105, 0.01, 0.01 };
        for (var i = 0; i < p99s.Length; i++)
        {
            s.Add(new MetricHistogram(i * 1000, ThreadPoolStatistics.AgentMeter, ThreadPoolStatistics.QueueDelayInstrument,
                new Dictionary<double, double> { [0.5] = 0.001, [0.99] = p99s[i] }, 100));
        }

        var report = s.Report();
        Assert.Empty(report.Findings);
        Assert.Equal(105, report.ThreadPool.QueueDelayMilliseconds!.P99, 3);
    }
}
