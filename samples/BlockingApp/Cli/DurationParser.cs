using System.Globalization;

namespace BlockingApp.Cli;

/// <summary>
/// Parses the durations people type: <c>500ms</c>, <c>10s</c>, <c>1.5s</c>, <c>2m</c>, <c>1h</c>, or a TimeSpan such as <c>00:00:10</c>.
/// A bare number is rejected: "10" could mean seconds or milliseconds, and guessing wrong makes a 3-hour test.
/// </summary>
internal static class DurationParser
{
    private static readonly (string Suffix, double Milliseconds)[] Units =
    [
        ("ms", 1),
        ("s", 1_000),
        ("m", 60_000),
        ("h", 3_600_000),
    ];

    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        text = text.Trim();
        if (text.Contains(':'))
        {
            return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out duration) && duration > TimeSpan.Zero;
        }

        // "ms" before "m" and "s": the first suffix that matches wins.
        foreach (var (suffix, milliseconds) in Units)
        {
            if (!text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var number = text[..^suffix.Length];
            if (number.Length == 0 || !char.IsAsciiDigit(number[0])
                || !double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
            {
                return false;
            }

            var total = value * milliseconds;
            // TimeSpan.MaxValue is ~29,000 years; a week is more than any demo needs and keeps arithmetic safe.
            if (total <= 0 || total > TimeSpan.FromDays(7).TotalMilliseconds)
            {
                return false;
            }

            duration = TimeSpan.FromMilliseconds(total);
            return duration > TimeSpan.Zero;
        }

        return false;
    }

    /// <summary>Formats a duration the way <see cref="TryParse"/> reads it (for the summary line).</summary>
    public static string Format(TimeSpan duration)
    {
        if (duration.TotalMilliseconds < 1000 || duration.Milliseconds != 0)
        {
            return duration.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture) + "ms";
        }

        return duration.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";
    }
}
