using System.Globalization;

namespace LoopDoctor.Bench.Infrastructure;

/// <summary>Median and range of a handful of runs: what every row reports (never a single run).</summary>
internal readonly record struct Stats(double Median, double Min, double Max, int Count)
{
    public static Stats Of(IEnumerable<double> values)
    {
        var sorted = values.Where(v => !double.IsNaN(v)).OrderBy(v => v).ToArray();
        if (sorted.Length == 0)
        {
            return new Stats(double.NaN, double.NaN, double.NaN, 0);
        }

        int mid = sorted.Length / 2;
        double median = sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
        return new Stats(median, sorted[0], sorted[^1], sorted.Length);
    }

    /// <summary>"0.987 (0.971–1.004, n=5)".</summary>
    public string Format(string format, string unit = "") =>
        Count == 0
            ? "n/a"
            : $"{Median.ToString(format, CultureInfo.InvariantCulture)}{unit} ({Min.ToString(format, CultureInfo.InvariantCulture)}–{Max.ToString(format, CultureInfo.InvariantCulture)}{unit}, n={Count})";
}

internal static class Num
{
    public static string F(double value, string format = "0.###") => value.ToString(format, CultureInfo.InvariantCulture);
}
