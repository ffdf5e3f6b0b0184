using LoopDoctor.Agent.Histograms;

namespace LoopDoctor.Agent.Tests.Histograms;

public sealed class WindowedHistogramTests
{
    private const long Millisecond = 1_000_000;

    [Theory]
    [InlineData(1_000_000_000)]  // Linux Stopwatch frequency
    [InlineData(10_000_000)]     // Windows Stopwatch frequency
    public void Windows_see_only_recent_slots_and_the_total_sees_everything(long frequency)
    {
        var clock = new ManualTimeProvider(frequency);
        var histogram = new WindowedHistogram(clock);

        histogram.Record(5 * Millisecond);
        clock.Advance(TimeSpan.FromSeconds(5));
        histogram.Record(7 * Millisecond);

        Assert.Equal(2, histogram.GetSnapshot(TimeSpan.FromSeconds(10)).Count);
        var lastThree = histogram.GetSnapshot(TimeSpan.FromSeconds(3));
        Assert.Equal(1, lastThree.Count);
        Assert.Equal(7 * Millisecond, lastThree.Max);

        clock.Advance(TimeSpan.FromSeconds(62));
        Assert.Equal(0, histogram.GetSnapshot(TimeSpan.FromSeconds(60)).Count);
        var total = histogram.GetTotalSnapshot();
        Assert.Equal(2, total.Count);
        Assert.Equal(7 * Millisecond, total.Max);
        Assert.Equal(TimeSpan.FromSeconds(67), histogram.Elapsed);
    }

    [Fact]
    public void Rotation_over_two_minutes_keeps_10_and_60_second_windows_accurate()
    {
        var clock = new ManualTimeProvider();
        var histogram = new WindowedHistogram(clock);
        // One sample per second, value = its second number (exact buckets below 128), for 120 s; slots are reused.
        for (int second = 1; second <= 120; second++)
        {
            histogram.Record(second);
            clock.Advance(TimeSpan.FromSeconds(1));
        }

        clock.Advance(TimeSpan.FromMilliseconds(-1)); // stay inside the last recorded second's successor boundary
        var ten = histogram.GetSnapshot(TimeSpan.FromSeconds(10));
        var sixty = histogram.GetSnapshot(TimeSpan.FromSeconds(60));
        Assert.InRange(ten.Count, 10, 11);
        Assert.InRange(sixty.Count, 60, 61);
        Assert.Equal(120, ten.Max);
        // The oldest value in the 10 s window is from second 110 or 111, never older; likewise for 60 s.
        Assert.InRange(ten.Percentile(0), 110, 111);
        Assert.InRange(sixty.Percentile(0), 60, 61);
        Assert.Equal(120, histogram.GetTotalSnapshot().Count);
    }

    [Fact]
    public void A_sample_older_than_its_reused_slot_goes_to_the_total_only()
    {
        var clock = new ManualTimeProvider();
        var histogram = new WindowedHistogram(clock);
        long old = clock.GetTimestamp();
        clock.Advance(TimeSpan.FromSeconds(histogram.SlotCount)); // same slot index, one ring turn later
        histogram.Record(1 * Millisecond);
        histogram.Record(2 * Millisecond, old);
        Assert.Equal(1, histogram.GetSnapshot(TimeSpan.FromSeconds(60)).Count);
        Assert.Equal(2, histogram.GetTotalSnapshot().Count);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(61)]
    public void Windows_outside_0_to_60_seconds_are_rejected(int seconds)
    {
        var histogram = new WindowedHistogram(new ManualTimeProvider());
        Assert.Throws<ArgumentOutOfRangeException>(() => histogram.GetSnapshot(TimeSpan.FromSeconds(seconds)));
    }

    [Fact]
    public void Parallel_recorders_racing_slot_rotation_lose_nothing_from_the_total_or_the_window()
    {
        var clock = new ManualTimeProvider();
        var histogram = new WindowedHistogram(clock);
        const int threads = 3;
        const int perThread = 200_000;
        using var go = new ManualResetEventSlim();
        var workers = Enumerable.Range(0, threads).Select(_ => new Thread(() =>
        {
            go.Wait();
            for (int i = 0; i < perThread; i++)
            {
                histogram.Record(i % 5000 * 1000L);
            }
        })).ToList();
        // The clock moves 20 s in 100 ms steps while they record: many concurrent slot claims, all within 60 s.
        var ticker = new Thread(() =>
        {
            go.Wait();
            for (int i = 0; i < 200; i++)
            {
                clock.Advance(TimeSpan.FromMilliseconds(100));
                Thread.Yield();
            }
        });
        workers.ForEach(w => w.Start());
        ticker.Start();
        go.Set();
        workers.ForEach(w => Assert.True(w.Join(TimeSpan.FromSeconds(30))));
        Assert.True(ticker.Join(TimeSpan.FromSeconds(30)));

        Assert.Equal(threads * (long)perThread, histogram.GetTotalSnapshot().Count);
        Assert.Equal(threads * (long)perThread, histogram.GetSnapshot(TimeSpan.FromSeconds(60)).Count);
    }
}
