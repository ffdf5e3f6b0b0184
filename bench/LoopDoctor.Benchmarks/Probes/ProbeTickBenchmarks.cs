using BenchmarkDotNet.Attributes;
using LoopDoctor.Agent.Metrics;
using LoopDoctor.Agent.Probes;
using LoopDoctor.Agent.Prometheus;

namespace LoopDoctor.Benchmarks.Probes;

/// <summary>
/// The sampler thread's per-tick work. Ticks run on the benchmark thread through <c>ProbeSampler.TickOnce</c>
/// (the dedicated thread is not started), so each figure is exactly what one tick costs the sampler.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class ProbeTickBenchmarks
{
    private ProbeSampler _waiting = null!;
    private ProbeSampler _inline = null!;
    private ProbeSampler _inlineListened = null!;
    private ProbeSampler _threadPool = null!;
    private LagProbe _threadPoolProbe = null!;
    private LagProbe _waitingProbe = null!;
    private LoopDoctorInstruments _instruments = null!;
    private MeterCollector _collector = null!;

    [GlobalSetup]
    public void Setup()
    {
        var interval = TimeSpan.FromMilliseconds(10);

        // A context that never runs what is posted: after the first tick the probe is outstanding for good (a stall).
        _waiting = new ProbeSampler(interval);
        _waitingProbe = _waiting.AddSynchronizationContextProbe(new BlackHoleContext(), "stalled");
        _waiting.TickOnce();

        // A context that runs posts inline: every tick records one sample and posts the next (full per-sample work).
        _inline = new ProbeSampler(interval);
        _inline.AddSynchronizationContextProbe(new InlineContext(), "inline");

        // What the standalone /metrics endpoint adds to every sample: its MeterListener aggregating the histogram.
        _instruments = new LoopDoctorInstruments();
        _collector = new MeterCollector([LoopDoctorInstruments.MeterName], log: null);
        _inlineListened = new ProbeSampler(interval);
        _inlineListened.AddSynchronizationContextProbe(new InlineContext(), "inline", new LagProbeOutputs
        {
            Instrument = _instruments.SchedulerDelay,
            Tag = new KeyValuePair<string, object?>(AgentProbes.SchedulerTagName, "inline"),
        });

        _threadPool = new ProbeSampler(interval);
        _threadPoolProbe = _threadPool.AddThreadPoolProbe();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _waiting.Dispose();
        _inline.Dispose();
        _inlineListened.Dispose();
        _threadPool.Dispose();
        _collector.Dispose();
        _instruments.Dispose();
    }

    [Benchmark(Description = "Tick, probe outstanding (during a stall)")]
    public void TickWhileOutstanding() => _waiting.TickOnce();

    [Benchmark(Description = "Tick, record sample + post (inline context)")]
    public void TickRecordAndPost() => _inline.TickOnce();

    [Benchmark(Description = "Tick, record sample + post + OTel histogram listened")]
    public void TickRecordAndPostListened() => _inlineListened.TickOnce();

    [Benchmark(Description = "Thread-pool probe round trip (tick + pool dispatch + record)")]
    public void ThreadPoolRoundTrip()
    {
        _threadPool.TickOnce();
        var spin = new SpinWait();
        while (_threadPoolProbe.CurrentDelayTicks(TimeProvider.System.GetTimestamp() + 1) != 0)
        {
            spin.SpinOnce();
        }
    }

    [Benchmark(Description = "LagProbe.CurrentDelay (gauge read)")]
    public TimeSpan CurrentDelay() => _waitingProbe.CurrentDelay;

    private sealed class BlackHoleContext : SynchronizationContext
    {
        public override void Post(SendOrPostCallback d, object? state)
        {
        }
    }

    private sealed class InlineContext : SynchronizationContext
    {
        public override void Post(SendOrPostCallback d, object? state) => d(state);
    }
}
