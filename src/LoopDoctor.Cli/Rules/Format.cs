using System.Globalization;

namespace LoopDoctor.Cli.Rules;

internal static class Format
{
    /// <summary>"850 ms", "3.2 s": durations as people say them.</summary>
    public static string Ms(double milliseconds) => milliseconds >= 1000
        ? (milliseconds / 1000).ToString(milliseconds >= 10_000 ? "0" : "0.0", CultureInfo.InvariantCulture) + " s"
        : milliseconds.ToString(milliseconds >= 10 ? "0" : "0.0", CultureInfo.InvariantCulture) + " ms";
}
