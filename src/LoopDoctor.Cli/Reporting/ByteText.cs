using System.Globalization;

namespace LoopDoctor.Cli.Reporting;

/// <summary>Sizes as a person reads them (KB, MB, GB; binary units, one decimal under 10).</summary>
internal static class ByteText
{
    public static string From(long bytes)
    {
        var (value, unit) = bytes >= 1L << 30 ? (bytes / (double)(1L << 30), "GB") : bytes >= 1L << 20 ? (bytes / (double)(1L << 20), "MB") : (bytes / 1024.0, "KB");
        return value.ToString(value < 10 ? "0.#" : "0", CultureInfo.InvariantCulture) + " " + unit;
    }
}
