using LoopDoctor.Agent.Histograms;

namespace LoopDoctor.Agent.Tests.Histograms;

public sealed class LogLinearHistogramTests
{
    private const long Microsecond = 1_000;
    private const long Millisecond = 1_000_000;
    private const long Second = 1_000_000_000;

    [Fact]
    public void Buckets_are_contiguous_and_each_value_falls_inside_its_bucket()
    {
        for (int i = 0; i < LogLinearHistogram.BucketCount; i++)
        {
            long lower = LogLinearHistogram.LowerBound(i);
            long upper = lower + LogLinearHistogram.Width(i) - 1;
            Assert.Equal(i, LogLinearHistogram.IndexOf(lower));
            Assert.Equal(i, LogLinearHistogram.IndexOf(upper));
            if (i > 0)
            {
                Assert.Equal(LogLinearHistogram.LowerBound(i - 1) + LogLinearHistogram.Width(i - 1), lower);
            }
        }

        Assert.Equal(LogLinearHistogram.BucketCount - 1, LogLinearHistogram.IndexOf(long.MaxValue));
        Assert.Equal(0, LogLinearHistogram.IndexOf(-5));
    }

    [Fact]
    public void Relative_error_is_within_two_percent_from_10_microseconds_to_60_seconds()
    {
        var random = new Random(1234);
        double worst = 0;
        // Log-spaced values with jitter, plus the exact ends of the range.
        var values = new List<long> { 10 * Microsecond, 60 * Second };
        for (int i = 0; i < 5_000; i++)
        {
            double exponent = Math.Log(10 * Microsecond) + random.NextDouble() * (Math.Log(60 * Second) - Math.Log(10 * Microsecond));
            values.Add((long)Math.Exp(exponent));
        }

        foreach (long value in values)
        {
            long reported = LogLinearHistogram.Representative(LogLinearHistogram.IndexOf(value));
            worst = Math.Max(worst, Math.Abs(reported - value) / (double)value);
        }

        Assert.True(worst <= 0.02, $"worst relative error {worst:P3}");
        Assert.True(worst <= 1.0 / 128 + 1e-9, $"expected ≤ 0.78% by construction, got {worst:P3}");

        // Through the public snapshot path too: the median of {v, 3v} is v's bucket midpoint (not capped by the max).
        foreach (long value in values.Take(300))
        {
            var histogram = new LogLinearHistogram();
            histogram.Record(value);
            histogram.Record(3 * value);
            long p50 = histogram.Snapshot().Percentile(50);
            Assert.True(Math.Abs(p50 - value) <= 0.02 * value, $"p50 {p50} for {value}");
        }
    }

    [Fact]
    public void Percentiles_count_sum_max_and_mean_of_a_uniform_distribution()
    {
        var histogram = new LogLinearHistogram();
        for (long us = 1; us <= 100_000; us++)
        {
            histogram.Record(us * Microsecond);
        }

        var snapshot = histogram.Snapshot();
        Assert.Equal(100_000, snapshot.Count);
        Assert.Equal(100 * Millisecond, snapshot.Max);
        Assert.Equal(100_000L * 100_001 / 2 * Microsecond, snapshot.Sum);
        Assert.Equal(50_000.5 * Microsecond, snapshot.Mean, 1e-6);
        AssertNear(50 * Millisecond, snapshot.Percentile(50));
        AssertNear(90 * Millisecond, snapshot.Percentile(90));
        AssertNear(99 * Millisecond, snapshot.Percentile(99));
        AssertNear(99.9 * Millisecond, snapshot.Percentile(99.9));
        Assert.Equal(100 * Millisecond, snapshot.Percentile(100));
        AssertNear(1 * Microsecond, snapshot.Percentile(0));
    }

    [Fact]
    public void Empty_snapshot_is_all_zero()
    {
        var snapshot = new LogLinearHistogram().Snapshot();
        Assert.Equal(0, snapshot.Count);
        Assert.Equal(0, snapshot.Max);
        Assert.Equal(0, snapshot.Mean);
        Assert.Equal(0, snapshot.Percentile(99));
    }

    [Fact]
    public void Values_past_the_trackable_range_share_the_last_bucket_and_report_the_exact_max()
    {
        var histogram = new LogLinearHistogram();
        histogram.Record(10 * Millisecond);
        histogram.Record(600 * Second);
        var snapshot = histogram.Snapshot();
        Assert.Equal(600 * Second, snapshot.Max);
        Assert.Equal(600 * Second, snapshot.Percentile(99));
        Assert.Equal(1, snapshot.CountAt(LogLinearHistogram.BucketCount - 1));
    }

    [Fact]
    public void Expected_interval_correction_records_D_D_minus_I_down_to_I()
    {
        var histogram = new LogLinearHistogram();
        histogram.RecordWithExpectedInterval(1 * Second, 10 * Millisecond);
        var snapshot = histogram.Snapshot();

        Assert.Equal(100, snapshot.Count);                              // 1000, 990, ..., 10 ms
        Assert.Equal(10 * Millisecond * (100 * 101 / 2), snapshot.Sum); // arithmetic series
        Assert.Equal(1 * Second, snapshot.Max);
        Assert.InRange(snapshot.CountAtOrAbove(100 * Millisecond), 90, 91);  // 100..1000 ms, to bucket precision
        AssertNear(505 * Millisecond, snapshot.Percentile(50), 0.02);
    }

    [Fact]
    public void Expected_interval_correction_matches_the_naive_loop_bucket_for_bucket()
    {
        var random = new Random(42);
        for (int trial = 0; trial < 200; trial++)
        {
            long interval = random.NextInt64(1, 50 * Millisecond);
            long value = random.NextInt64(0, 2 * Second);
            var fast = new LogLinearHistogram();
            var naive = new LogLinearHistogram();
            fast.RecordWithExpectedInterval(value, interval);
            naive.Record(value);
            for (long missing = value - interval; missing >= interval; missing -= interval)
            {
                naive.Record(missing);
            }

            var a = fast.Snapshot();
            var b = naive.Snapshot();
            Assert.Equal(b.Count, a.Count);
            Assert.Equal(b.Sum, a.Sum);
            Assert.Equal(b.Max, a.Max);
            for (int i = 0; i < LogLinearHistogram.BucketCount; i++)
            {
                Assert.Equal(b.CountAt(i), a.CountAt(i));
            }
        }
    }

    [Fact]
    public void Values_at_or_below_the_interval_are_recorded_once()
    {
        var histogram = new LogLinearHistogram();
        histogram.RecordWithExpectedInterval(10 * Millisecond, 10 * Millisecond);
        histogram.RecordWithExpectedInterval(3 * Millisecond, 10 * Millisecond);
        histogram.RecordWithExpectedInterval(5 * Millisecond, 0);
        Assert.Equal(3, histogram.Snapshot().Count);
    }

    [Fact]
    public void Merged_snapshots_equal_one_histogram_holding_both()
    {
        var a = new LogLinearHistogram();
        var b = new LogLinearHistogram();
        var both = new LogLinearHistogram();
        var random = new Random(7);
        for (int i = 0; i < 10_000; i++)
        {
            long value = random.NextInt64(0, 5 * Second);
            (i % 2 == 0 ? a : b).Record(value);
            both.Record(value);
        }

        var merged = a.Snapshot().Merge(b.Snapshot());
        var expected = both.Snapshot();
        Assert.Equal(expected.Count, merged.Count);
        Assert.Equal(expected.Sum, merged.Sum);
        Assert.Equal(expected.Max, merged.Max);
        foreach (double p in new[] { 50, 90, 99, 99.9 })
        {
            Assert.Equal(expected.Percentile(p), merged.Percentile(p));
        }
    }

    [Fact]
    public void Parallel_recorders_lose_no_counts()
    {
        var histogram = new LogLinearHistogram();
        const int threads = 4;
        const int perThread = 250_000;
        using var go = new ManualResetEventSlim();
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            go.Wait();
            for (int i = 0; i < perThread; i++)
            {
                histogram.Record(1 + (i % 1000) * Microsecond);
            }

            histogram.RecordWithExpectedInterval(1 * Second, 10 * Millisecond);
        })).ToList();
        workers.ForEach(w => w.Start());
        go.Set();
        workers.ForEach(w => Assert.True(w.Join(TimeSpan.FromSeconds(30))));

        var snapshot = histogram.Snapshot();
        Assert.Equal(threads * (perThread + 100L), snapshot.Count);
        long perThreadSum = 0;
        for (int i = 0; i < perThread; i++)
        {
            perThreadSum += 1 + (i % 1000) * Microsecond;
        }

        Assert.Equal(threads * (perThreadSum + 10 * Millisecond * 5050), snapshot.Sum);
        Assert.Equal(1 * Second, snapshot.Max);
    }

    [Fact]
    public void Recording_allocates_nothing()
    {
        var histogram = new LogLinearHistogram();
        var windowed = new WindowedHistogram();
        // Warm up (JIT, first slot claim).
        histogram.Record(1);
        histogram.RecordWithExpectedInterval(2 * Second, 10 * Millisecond);
        windowed.Record(1);
        windowed.RecordWithExpectedInterval(2 * Second, 10 * Millisecond, TimeProvider.System.GetTimestamp());

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100_000; i++)
        {
            histogram.Record(i * 997L);
            windowed.Record(i * 997L);
        }

        for (int i = 0; i < 1_000; i++)
        {
            histogram.RecordWithExpectedInterval(i * Millisecond, 10 * Millisecond);
            windowed.RecordWithExpectedInterval(i * Millisecond, 10 * Millisecond, TimeProvider.System.GetTimestamp());
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Timestamp_scale_converts_1_GHz_and_10_MHz_clocks()
    {
        Assert.Equal(1_500, new TimestampScale(1_000_000_000).ToNanoseconds(1_500));
        Assert.Equal(1_500_000, new TimestampScale(10_000_000).ToNanoseconds(15_000));
        Assert.InRange(new TimestampScale(3).ToNanoseconds(1), 333_333_332, 333_333_334);
        Assert.Equal(10_000, new TimestampScale(10_000_000).ToTicks(TimeSpan.FromMilliseconds(1)));
        Assert.Equal(TimeSpan.FromMilliseconds(1.5), TimestampScale.FromNanoseconds(TimestampScale.ToNanoseconds(TimeSpan.FromMilliseconds(1.5))));
    }

    private static void AssertNear(double expected, long actual, double tolerance = 0.02)
        => Assert.True(Math.Abs(actual - expected) <= tolerance * expected, $"expected {expected} ± {tolerance:P0}, got {actual}");
}
