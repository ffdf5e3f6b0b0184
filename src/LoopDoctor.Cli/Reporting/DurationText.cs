using System.Globalization;

namespace LoopDoctor.Cli.Reporting;

/// <summary>
/// The one rule for durations a person reads (text, Markdown, HTML, the live view, finding titles): the largest unit in
/// which the value is at least 1 (ms below a second, then s, min, h), with 2 significant digits under 10 of that unit and
/// whole units from 10 up: 0.28 ms, 7.1 ms, 12 ms, 850 ms, 7.1 s, 7.3 min. JSON keeps exact milliseconds instead.
/// </summary>
internal static class DurationText
{
    private static readonly (string Unit, double Milliseconds, double Next)[] Units =
    [
        ("ms", 1, 1000),
        ("s", 1000, 60),
        ("min", 60_000, 60),
        ("h", 3_600_000, double.PositiveInfinity),
    ];

    /// <summary>A duration in milliseconds as people say it: "0.28 ms", "12 ms", "7.1 s", "7.3 min".</summary>
    public static string FromMilliseconds(double milliseconds)
    {
        if (double.IsNaN(milliseconds))
        {
            return "n/a";
        }

        if (milliseconds < 0)
        {
            return "-" + FromMilliseconds(-milliseconds);
        }

        if (milliseconds == 0)
        {
            return "0 ms";
        }

        for (var i = 0; i < Units.Length; i++)
        {
            var (unit, size, next) = Units[i];
            var value = Round(milliseconds / size);
            // Rounding can carry into the next unit (999.6 ms is "1.0 s", not "1000 ms").
            if (value < next || i == Units.Length - 1)
            {
                return Number(value) + " " + unit;
            }
        }

        throw new InvalidOperationException("unreachable: the last unit takes every value");
    }

    /// <summary>A duration in seconds (report lengths, session times), by the same rule.</summary>
    public static string FromSeconds(double seconds) => FromMilliseconds(seconds * 1000);

    /// <summary>2 significant digits under 10, whole numbers from 10 up.</summary>
    private static double Round(double value)
    {
        if (value >= 9.95)
        {
            return Math.Round(value, MidpointRounding.AwayFromZero);
        }

        var digits = Math.Max(0, 1 - (int)Math.Floor(Math.Log10(value)));
        return Math.Round(value, Math.Min(digits, 15), MidpointRounding.AwayFromZero);
    }

    private static string Number(double value)
    {
        if (value >= 10)
        {
            return value.ToString("0", CultureInfo.InvariantCulture);
        }

        // Keep the second significant digit even when it is 0 ("8.0 s", "0.10 ms"): it says how precise the figure is.
        var digits = Math.Max(1, 1 - (int)Math.Floor(Math.Log10(value)));
        return value.ToString("F" + Math.Min(digits, 15), CultureInfo.InvariantCulture);
    }
}
