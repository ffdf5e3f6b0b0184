using System.Numerics;

namespace LoopDoctor.Agent.Histograms;

/// <summary>
/// An HdrHistogram-like log-linear histogram of non-negative <see cref="long"/> values, meant for durations in
/// <b>nanoseconds</b> (callers convert Stopwatch/TimeProvider ticks with <see cref="TimestampScale"/>).
/// <para>
/// Layout: values below 128 each get an exact bucket; above, every power of two [2^e, 2^(e+1)) is split into
/// <see cref="SubBucketCount"/> = 64 equal sub-buckets, so a bucket's width is at most 1/64 of its lower bound and its
/// midpoint (what <see cref="HistogramSnapshot.Percentile"/> reports) is within 1/128 ≈ 0.8% of any value in it — well
/// inside the 2% budget from 10 µs to 60 s. Values at or above 2^38 ns (≈ 275 s) share the last bucket; the exact
/// maximum is tracked separately and caps every percentile, so a longer stall still reads correctly as the max.
/// 2,112 buckets = 16.5 KiB per histogram, preallocated.
/// </para>
/// <para>
/// Recording is lock-free and allocation-free: one <see cref="Interlocked.Increment(ref long)"/> on the bucket, one
/// <see cref="Interlocked.Add(ref long, long)"/> on the sum, and a compare-exchange on the max only when it grows.
/// The count is not kept separately (it is the sum of the buckets, computed when a snapshot is taken), which keeps
/// the hot path at two interlocked operations and the snapshot's count consistent with its percentiles.
/// </para>
/// </summary>
internal sealed class LogLinearHistogram
{
    internal const int SubBucketBits = 6;
    internal const int SubBucketCount = 1 << SubBucketBits;           // 64 per power of two
    internal const long LinearLimit = SubBucketCount * 2;              // values below are counted exactly
    internal const int HighestExponent = 38;                           // 2^38 ns ≈ 274.9 s
    internal const long HighestTrackableValue = (1L << HighestExponent) - 1;

    /// <summary>Number of buckets: the index of <see cref="HighestTrackableValue"/> plus one (2,112).</summary>
    internal static readonly int BucketCount = IndexOf(HighestTrackableValue) + 1;

    private readonly long[] _counts = new long[BucketCount];
    private long _sum;
    private long _max;

    /// <summary>Records one value. Negative values count as 0. Thread-safe, lock-free, allocation-free.</summary>
    public void Record(long value)
    {
        if (value < 0)
        {
            value = 0;
        }

        Interlocked.Increment(ref _counts[IndexOf(value)]);
        AddToSum(value);
        UpdateMax(value);
    }

    /// <summary>
    /// Records <paramref name="value"/> and, when it exceeds <paramref name="expectedInterval"/>, the samples a
    /// sampler running every <paramref name="expectedInterval"/> would have taken had it not been stuck behind the
    /// same stall: value − I, value − 2I, … down to I (HdrHistogram's <c>recordValueWithExpectedInterval</c>,
    /// the coordinated-omission correction; https://github.com/HdrHistogram/HdrHistogram "Coordinated Omission").
    /// Cost is bounded by the number of buckets crossed, not by value / interval: the synthetic values falling in
    /// one bucket are added with one interlocked add.
    /// </summary>
    public void RecordWithExpectedInterval(long value, long expectedInterval)
    {
        Record(value);
        if (expectedInterval <= 0 || value <= expectedInterval)
        {
            return;
        }

        long missing = value - expectedInterval;
        Int128 addedSum = 0;
        while (missing >= expectedInterval)
        {
            int index = IndexOf(missing);
            long lowest = Math.Max(LowerBound(index), expectedInterval);
            long n = (missing - lowest) / expectedInterval + 1;        // missing, missing - I, ... >= lowest
            Interlocked.Add(ref _counts[index], n);
            long last = missing - (n - 1) * expectedInterval;
            addedSum += ((Int128)n * ((Int128)missing + last)) >> 1;  // n·(first+last)/2; shift, not Int128 division (slow)
            missing = last - expectedInterval;
        }

        AddToSum(addedSum > long.MaxValue ? long.MaxValue : (long)addedSum);
    }

    /// <summary>Clears every bucket, the sum and the max. Not safe against concurrent recorders (see <see cref="WindowedHistogram"/>).</summary>
    public void Reset()
    {
        Array.Clear(_counts);
        Volatile.Write(ref _sum, 0);
        Volatile.Write(ref _max, 0);
    }

    /// <summary>Copies the current state (allocates).</summary>
    public HistogramSnapshot Snapshot()
    {
        var counts = new long[BucketCount];
        long sum = 0, max = 0;
        AddTo(counts, ref sum, ref max);
        return new HistogramSnapshot(counts, sum, max);
    }

    /// <summary>Adds this histogram's buckets, sum and max into an accumulator (used to merge window slots without per-slot copies).</summary>
    internal void AddTo(long[] counts, ref long sum, ref long max)
    {
        var source = _counts;
        for (int i = 0; i < source.Length; i++)
        {
            counts[i] += Volatile.Read(ref source[i]);
        }

        sum = SaturatingAdd(sum, Volatile.Read(ref _sum));
        max = Math.Max(max, Volatile.Read(ref _max));
    }

    /// <summary>Bucket index of a value (values past <see cref="HighestTrackableValue"/> map to the last bucket).</summary>
    internal static int IndexOf(long value)
    {
        if (value < LinearLimit)
        {
            return value <= 0 ? 0 : (int)value;
        }

        if (value > HighestTrackableValue)
        {
            value = HighestTrackableValue;
        }

        int exponent = 63 - BitOperations.LeadingZeroCount((ulong)value);   // >= 7
        int shift = exponent - SubBucketBits;                                // >= 1
        return (shift << SubBucketBits) + (int)(value >> shift);              // sub-bucket in [64, 128)
    }

    /// <summary>Smallest value that maps to <paramref name="index"/>.</summary>
    internal static long LowerBound(int index)
    {
        if (index < LinearLimit)
        {
            return index;
        }

        int shift = (index >> SubBucketBits) - 1;
        long subBucket = index - (shift << SubBucketBits);
        return subBucket << shift;
    }

    /// <summary>Number of distinct values that map to <paramref name="index"/>.</summary>
    internal static long Width(int index) => index < LinearLimit ? 1 : 1L << ((index >> SubBucketBits) - 1);

    /// <summary>The value reported for a bucket: its midpoint (exact for the linear buckets).</summary>
    internal static long Representative(int index) => LowerBound(index) + Width(index) / 2;

    private void AddToSum(long value)
    {
        // Plain add: a sum of nanoseconds overflows only after 292 years of recorded delay.
        Interlocked.Add(ref _sum, value);
    }

    private void UpdateMax(long value)
    {
        long current = Volatile.Read(ref _max);
        while (value > current)
        {
            long seen = Interlocked.CompareExchange(ref _max, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    internal static long SaturatingAdd(long a, long b)
    {
        long result = unchecked(a + b);
        // Overflow happened when both operands have the same sign and the result's sign differs.
        return ((a ^ result) & (b ^ result)) < 0 ? (a < 0 ? long.MinValue : long.MaxValue) : result;
    }
}
