namespace LoopDoctor.Cli.Reporting;

/// <summary>A series as one line of block characters (▁ to █, scaled to the series' own maximum; a space where nothing was measured).</summary>
internal static class Sparkline
{
    private const string Blocks = "▁▂▃▄▅▆▇█";

    /// <summary>At most <paramref name="width"/> characters: neighbouring values are merged (their maximum) to fit.</summary>
    public static string Of(IReadOnlyList<double?> values, int width)
    {
        if (values.Count == 0 || width <= 0)
        {
            return "";
        }

        var group = (values.Count + width - 1) / width;
        var merged = new List<double?>();
        for (var i = 0; i < values.Count; i += group)
        {
            var slice = values.Skip(i).Take(group).Where(v => v is not null).ToList();
            merged.Add(slice.Count == 0 ? null : slice.Max());
        }

        var max = merged.Max() ?? 0;
        return string.Concat(merged.Select(v => v switch
        {
            null => ' ',
            _ when max <= 0 => Blocks[0],
            { } x => Blocks[(int)Math.Round(Math.Clamp(x / max, 0, 1) * (Blocks.Length - 1))],
        }));
    }
}
