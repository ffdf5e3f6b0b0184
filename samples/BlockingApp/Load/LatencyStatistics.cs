namespace BlockingApp.Load;

/// <summary>Exact percentiles of recorded latencies (nearest-rank): a run records at most rps × duration values.</summary>
internal static class LatencyStatistics
{
    /// <summary>The nearest-rank percentile: the smallest value with at least <paramref name="percentile"/>% of values ≤ it.</summary>
    public static double Percentile(IReadOnlyList<double> sortedAscending, double percentile)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(percentile, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percentile, 100);
        if (sortedAscending.Count == 0)
        {
            return double.NaN;
        }

        var rank = (int)Math.Ceiling(percentile / 100 * sortedAscending.Count);
        return sortedAscending[Math.Clamp(rank, 1, sortedAscending.Count) - 1];
    }
}
