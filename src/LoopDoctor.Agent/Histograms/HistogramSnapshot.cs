namespace LoopDoctor.Agent.Histograms;

/// <summary>
/// An immutable copy of a <see cref="LogLinearHistogram"/> (or of several merged): count, sum, max, mean and
/// percentiles. Values are in the unit recorded (nanoseconds for the agent's probes).
/// </summary>
internal sealed class HistogramSnapshot
{
    private readonly long[] _counts;

    internal HistogramSnapshot(long[] counts, long sum, long max)
    {
        _counts = counts;
        Sum = sum;
        Max = max;
        long count = 0;
        foreach (long c in counts)
        {
            count += c;
        }

        Count = count;
    }

    /// <summary>An empty snapshot.</summary>
    public static HistogramSnapshot Empty { get; } = new(new long[LogLinearHistogram.BucketCount], 0, 0);

    /// <summary>Number of recorded values (including coordinated-omission corrections).</summary>
    public long Count { get; }

    /// <summary>Sum of recorded values (saturates at <see cref="long.MaxValue"/>).</summary>
    public long Sum { get; }

    /// <summary>Exact largest recorded value; 0 when empty.</summary>
    public long Max { get; }

    /// <summary>Arithmetic mean; 0 when empty.</summary>
    public double Mean => Count == 0 ? 0 : (double)Sum / Count;

    /// <summary>Number of values at or above <paramref name="value"/>, to bucket precision (a bucket counts when its midpoint is).</summary>
    public long CountAtOrAbove(long value)
    {
        long count = 0;
        for (int i = _counts.Length - 1; i >= 0 && LogLinearHistogram.Representative(i) >= value; i--)
        {
            count += _counts[i];
        }

        return count;
    }

    /// <summary>Count in one bucket (tests and merging).</summary>
    internal long CountAt(int index) => _counts[index];

    /// <summary>
    /// The value at <paramref name="percentile"/> (0–100, e.g. 99.9): the midpoint of the bucket holding the
    /// ⌈p/100 · count⌉-th smallest value, capped at <see cref="Max"/>. 0 when empty.
    /// </summary>
    public long Percentile(double percentile)
    {
        if (Count == 0)
        {
            return 0;
        }

        percentile = Math.Clamp(percentile, 0, 100);
        long rank = Math.Max(1, (long)Math.Ceiling(percentile / 100.0 * Count));
        long seen = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return i == _counts.Length - 1 ? Max : Math.Min(LogLinearHistogram.Representative(i), Max);
            }
        }

        return Max;
    }

    /// <summary>A new snapshot holding the values of both (bucket counts and sums added, max of maxes).</summary>
    public HistogramSnapshot Merge(HistogramSnapshot other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var counts = new long[_counts.Length];
        for (int i = 0; i < counts.Length; i++)
        {
            counts[i] = _counts[i] + other._counts[i];
        }

        return new HistogramSnapshot(counts, LogLinearHistogram.SaturatingAdd(Sum, other.Sum), Math.Max(Max, other.Max));
    }
}
