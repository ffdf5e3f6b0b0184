using System.Globalization;

namespace LoopDoctor.Agent;

/// <summary>
/// The one duration grammar of LoopDoctor: the agent's <c>LOOPDOCTOR_*</c> variables, the <c>loopdoctor</c> CLI's
/// options and BlockingApp's options all read durations with <see cref="TryParse"/>.
/// </summary>
/// <remarks>
/// <para>Accepted: a number with a unit, <c>250us</c> (or <c>µs</c>), <c>500ms</c>, <c>10s</c>, <c>2m</c> (or
/// <c>min</c>), <c>1h</c>, any case, decimals allowed (<c>1.5s</c>, <c>.5s</c>), blanks around the number allowed
/// (<c> 5 ms </c>); or a TimeSpan with a colon, <c>00:00:10</c>, <c>00:01:30.5</c>, <c>1.02:00:00</c>.</para>
/// <para>Rejected: a bare number (<c>10</c>: seconds or milliseconds? a wrong guess makes a 3-hour test), signs,
/// exponents (<c>1e3ms</c>), unknown units (<c>5d</c>), negative TimeSpans, anything beyond <see cref="TimeSpan.MaxValue"/>.</para>
/// <para>Zero parses (<c>0s</c>, <c>00:00:00</c>): whether zero, or a week, is allowed is each option's range check,
/// never the grammar's.</para>
/// <para>Shared by project reference (InternalsVisibleTo <c>loopdoctor</c> and <c>BlockingApp</c>), not public API.</para>
/// </remarks>
internal static class DurationParser
{
    /// <summary>Examples for error messages: "use e.g. {Examples}".</summary>
    public const string Examples = "500ms, 10s, 2m or 00:00:10";

    // Compared with the whole unit (the trailing letters), so the order does not matter: "5ms" is never "5m" + "s".
    private static readonly (string Unit, double TicksPerUnit)[] Units =
    [
        ("us", TimeSpan.TicksPerMillisecond / 1000.0),
        ("µs", TimeSpan.TicksPerMillisecond / 1000.0), // U+00B5 MICRO SIGN
        ("μs", TimeSpan.TicksPerMillisecond / 1000.0), // U+03BC GREEK SMALL LETTER MU, what many keyboards type
        ("ms", TimeSpan.TicksPerMillisecond),
        ("s", TimeSpan.TicksPerSecond),
        ("m", TimeSpan.TicksPerMinute),
        ("min", TimeSpan.TicksPerMinute),
        ("h", TimeSpan.TicksPerHour),
    ];

    /// <summary>Parses a duration (see the remarks for the grammar); <paramref name="duration"/> is never negative.</summary>
    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var span = text.AsSpan().Trim();
        if (span.Contains(':'))
        {
            return TimeSpan.TryParse(span, CultureInfo.InvariantCulture, out duration) && duration >= TimeSpan.Zero;
        }

        // The unit is the trailing run of letters; the number is what precedes it.
        var unitStart = span.Length;
        while (unitStart > 0 && char.IsLetter(span[unitStart - 1]))
        {
            unitStart--;
        }

        var unit = span[unitStart..];
        var number = span[..unitStart].TrimEnd();
        if (unit.IsEmpty || !IsDecimal(number))
        {
            return false; // a bare number, no number, or a sign, exponent or stray character in the number
        }

        foreach (var (name, ticksPerUnit) in Units)
        {
            if (!unit.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var ticks = double.Parse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture) * ticksPerUnit;
            if (ticks >= TimeSpan.MaxValue.Ticks)
            {
                return false;
            }

            duration = TimeSpan.FromTicks((long)Math.Round(ticks));
            return true;
        }

        return false; // an unknown unit: 5d, 10x, 5 parsecs
    }

    /// <summary>Formats a duration the way <see cref="TryParse"/> reads it: <c>500ms</c>, <c>1500ms</c>, <c>2s</c>.</summary>
    public static string Format(TimeSpan duration)
    {
        if (duration.TotalMilliseconds < 1000 || duration.Milliseconds != 0)
        {
            return duration.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture) + "ms";
        }

        return duration.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";
    }

    /// <summary>ASCII digits with at most one decimal point, ending in a digit: <c>10</c>, <c>1.5</c>, <c>.5</c>.</summary>
    private static bool IsDecimal(ReadOnlySpan<char> number)
    {
        if (number.IsEmpty || !char.IsAsciiDigit(number[^1]))
        {
            return false;
        }

        var points = 0;
        foreach (var c in number)
        {
            if (c == '.')
            {
                points++;
            }
            else if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return points <= 1;
    }
}
