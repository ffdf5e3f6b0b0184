namespace LoopDoctor.Cli.Projections;

/// <summary>The median of values weighted by how many observations each stands for (a histogram interval's count).</summary>
internal static class WeightedMedian
{
    /// <summary>The smallest value at or past half the total weight; 0 without values.</summary>
    public static double Of(IEnumerable<(double Value, long Weight)> values)
    {
        var sorted = values.OrderBy(v => v.Value).ToList();
        var half = sorted.Sum(v => v.Weight) / 2.0;
        double seen = 0;
        foreach (var (value, weight) in sorted)
        {
            seen += weight;
            if (seen >= half)
            {
                return value;
            }
        }

        return sorted.Count > 0 ? sorted[^1].Value : 0;
    }
}
