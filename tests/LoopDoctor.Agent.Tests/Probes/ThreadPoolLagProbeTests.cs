using LoopDoctor.Agent.Probes;

namespace LoopDoctor.Agent.Tests.Probes;

public sealed class ThreadPoolLagProbeTests
{
    [Fact]
    public void Probing_the_real_pool_allocates_nothing_per_sample()
    {
        using var sampler = new ProbeSampler(TimeSpan.FromMilliseconds(10));
        var probe = sampler.AddThreadPoolProbe();
        const int samples = 2_000;
        RunSamples(sampler, probe, 50);  // warm up: JIT, the pool's queue segments

        long before = GC.GetAllocatedBytesForCurrentThread();
        RunSamples(sampler, probe, samples);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.True(probe.GetCumulativeSnapshot().Count >= samples);
        Assert.Equal(0, probe.CallbackErrors);
    }

    /// <summary>Ticks on this thread: each tick records the finished item and posts the next; waits (spinning, allocation-free) for it to run.</summary>
    private static void RunSamples(ProbeSampler sampler, LagProbe probe, int count)
    {
        for (int i = 0; i < count; i++)
        {
            sampler.TickOnce();
            var spin = new SpinWait();
            long deadline = Environment.TickCount64 + 10_000;
            while (probe.CurrentDelayTicks(TimeProvider.System.GetTimestamp() + 1) != 0)  // +1: non-zero while outstanding
            {
                Assert.True(Environment.TickCount64 < deadline, "probe item never ran");
                spin.SpinOnce();
            }
        }

        sampler.TickOnce();
    }
}
