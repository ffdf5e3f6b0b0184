using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Signals;
using static LoopDoctor.Cli.Tests.Detectors.SignalBuilder;

namespace LoopDoctor.Cli.Tests.Detectors;

/// <summary>Blocking waits read from stack samples when a session has no wait events (.NET 8).</summary>
public class SampledWaitTests
{
    // A pool worker parked in Monitor.Wait under the task wait <paramref name="api"/> the handler called.
    private static CallStack Parked(string api) =>
        new(["System.Threading.Monitor.Wait", api, Handler, "System.Threading.ThreadPoolWorkQueue.Dispatch", "System.Threading.PortableThreadPool.WorkerThread.WorkerThreadStart"]);

    [Fact]
    public void Without_wait_events_a_run_of_parked_samples_is_one_estimated_wait_as_long_as_the_run()
    {
        var s = new SignalBuilder().Worker(7, 0)
            .Samples(7, 100, 400, SampleKind.External, Parked("System.Runtime.CompilerServices.TaskAwaiter.GetResult"))
            .Worker(7, 401);

        var finding = s.Find(FindingKinds.BlockingWait);
        Assert.NotNull(finding);
        Assert.True(finding.Estimated);
        Assert.Equal(1, finding.Count);
        Assert.Equal(300, finding.MaxMilliseconds, 3);
        Assert.Equal("GetAwaiter().GetResult()", finding.CallSites[0].BlockingApi);
        Assert.Equal(Handler, finding.CallSites[0].Frames[0]);
        Assert.Contains("Estimated from stack samples", finding.Evidence[0]);
    }

    [Fact]
    public void With_wait_events_the_samples_are_not_counted_again()
    {
        // In time order, as a session delivers them: the wait's start, the samples of the parked thread, the wait's end.
        var s = new SignalBuilder().Worker(7, 0)
            .Add(new WaitStarted(100, 7, WaitSource.MonitorWait, PoolStack("System.Threading.Tasks.Task`1.get_Result", Handler)))
            .Samples(7, 100, 400, SampleKind.External, Parked("System.Threading.Tasks.Task`1.get_Result"))
            .Add(new WaitStopped(400, 7)).Worker(7, 401);

        var finding = s.Find(FindingKinds.BlockingWait);
        Assert.NotNull(finding);
        Assert.False(finding.Estimated);
        Assert.Equal(1, finding.Count);
    }

    [Fact]
    public void Threads_outside_the_pool_and_running_code_are_not_waits()
    {
        var gate = new CallStack(["System.Threading.WaitHandle.WaitOneNoCheck", "System.Threading.PortableThreadPool.GateThread.GateThreadStart"]);
        var s = new SignalBuilder()
            .Samples(3, 0, 2000, SampleKind.External, gate)
            .Worker(7, 0).Samples(7, 0, 2000, SampleKind.Managed, PoolStack(Handler));

        Assert.Null(s.Find(FindingKinds.BlockingWait));
    }

    [Fact]
    public void Threads_parked_at_once_from_samples_make_starvation_critical()
    {
        var s = new SignalBuilder();
        for (var thread = 10; thread < 14; thread++)
        {
            s.Worker(thread, 0);
        }

        s.Add(new PoolAdjustment(50, 0, 8, AdjustmentReason.CooperativeBlocking))
         .Add(new PoolAdjustment(60, 0, 9, AdjustmentReason.CooperativeBlocking))
         .Add(new PoolAdjustment(70, 0, 12, AdjustmentReason.CooperativeBlocking));
        for (var t = 100; t <= 600; t++)
        {
            for (var thread = 10; thread < 14; thread++)
            {
                s.Add(new StackSample(t, thread, SampleKind.External, Parked("System.Threading.Tasks.Task`1.get_Result")));
            }
        }

        var starvation = s.Find(FindingKinds.ThreadPoolStarvation);
        Assert.NotNull(starvation);
        Assert.Contains(starvation.Evidence, e => e.Contains("Up to 4 threads were blocked in waits at the same time (seen in stack samples)", StringComparison.Ordinal));
    }
}
