using BenchmarkDotNet.Attributes;
using LoopDoctor.Agent.Histograms;

namespace LoopDoctor.Benchmarks.Histograms;

/// <summary>Hot-path cost of recording into the agent's histograms (goal: ≤ 20 ns and 0 B per record).</summary>
[MemoryDiagnoser]
[MedianColumn]
public class HistogramBenchmarks
{
    private const int Batch = 1024;
    private readonly long[] _values = new long[Batch];
    private readonly LogLinearHistogram _histogram = new();
    private readonly WindowedHistogram _windowed = new();
    private long _timestamp;

    [GlobalSetup]
    public void Setup()
    {
        // Log-uniform nanosecond values from 10 µs to 1 s: every record touches a different bucket region.
        var random = new Random(1);
        for (int i = 0; i < Batch; i++)
        {
            _values[i] = (long)Math.Exp(Math.Log(10_000) + random.NextDouble() * (Math.Log(1_000_000_000) - Math.Log(10_000)));
        }

        _timestamp = TimeProvider.System.GetTimestamp();
        _windowed.Record(1, _timestamp);
    }

    [Benchmark(OperationsPerInvoke = Batch, Description = "LogLinearHistogram.Record")]
    public void Record()
    {
        var values = _values;
        for (int i = 0; i < values.Length; i++)
        {
            _histogram.Record(values[i]);
        }
    }

    [Benchmark(Description = "LogLinearHistogram.RecordWithExpectedInterval (1 s at 10 ms = 100 values)")]
    public void RecordWithExpectedInterval() => _histogram.RecordWithExpectedInterval(1_000_000_000, 10_000_000);

    [Benchmark(OperationsPerInvoke = Batch, Description = "WindowedHistogram.Record (caller's timestamp)")]
    public void WindowedRecord()
    {
        var values = _values;
        long timestamp = _timestamp;
        for (int i = 0; i < values.Length; i++)
        {
            _windowed.Record(values[i], timestamp);
        }
    }

    [Benchmark(OperationsPerInvoke = Batch, Description = "WindowedHistogram.Record (reads the clock)")]
    public void WindowedRecordReadingClock()
    {
        var values = _values;
        for (int i = 0; i < values.Length; i++)
        {
            _windowed.Record(values[i]);
        }
    }

    [Benchmark(Description = "WindowedHistogram.GetSnapshot(10 s) + p99 (scrape path, allocates)")]
    public long SnapshotTenSeconds() => _windowed.GetSnapshot(TimeSpan.FromSeconds(10)).Percentile(99);
}
