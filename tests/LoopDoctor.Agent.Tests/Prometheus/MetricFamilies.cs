namespace LoopDoctor.Agent.Tests.Prometheus;

/// <summary>A metric family as a dashboard depends on it: its type, unit and the names of its labels.</summary>
internal sealed record MetricFamily(string Name, string Type, string Unit, IReadOnlySet<string> LabelNames)
{
    public override string ToString() => $"{Name} {Type} unit='{Unit}' labels={{{string.Join(",", LabelNames.Order(StringComparer.Ordinal))}}}";
}

/// <summary>
/// Reads the families of any exposition (ours, or the official exporter's, whose OpenMetrics adds <c>target_info</c> and
/// <c>_created</c> samples): <c># TYPE</c>/<c># UNIT</c> lines and every sample's label names, by family.
/// </summary>
internal static class MetricFamilies
{
    private static readonly string[] SampleSuffixes = ["_total", "_bucket", "_count", "_sum", "_created", "_info"];

    public static Dictionary<string, MetricFamily> Parse(string text)
    {
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        var units = new Dictionary<string, string>(StringComparer.Ordinal);
        var labels = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal) || line.StartsWith("# UNIT ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ', 4);
                (parts[1] == "TYPE" ? types : units)[parts[2]] = parts.Length > 3 ? parts[3] : "";
                continue;
            }

            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var nameEnd = line.IndexOfAny(['{', ' ']);
            var family = FamilyOf(line[..nameEnd], types);
            Assert.True(family is not null, $"sample without a family: {line}");
            var names = labels.TryGetValue(family!, out var set) ? set : labels[family!] = new HashSet<string>(StringComparer.Ordinal);
            if (line[nameEnd] == '{')
            {
                foreach (var name in LabelNamesOf(line, nameEnd + 1))
                {
                    names.Add(name);
                }
            }
        }

        return types.ToDictionary(t => t.Key, t => new MetricFamily(t.Key, t.Value, units.GetValueOrDefault(t.Key, ""),
            labels.TryGetValue(t.Key, out var set) ? set : new HashSet<string>()), StringComparer.Ordinal);
    }

    private static string? FamilyOf(string sampleName, Dictionary<string, string> types)
    {
        if (types.ContainsKey(sampleName))
        {
            return sampleName;
        }

        foreach (var suffix in SampleSuffixes)
        {
            if (sampleName.EndsWith(suffix, StringComparison.Ordinal) && types.ContainsKey(sampleName[..^suffix.Length]))
            {
                return sampleName[..^suffix.Length];
            }
        }

        return null;
    }

    /// <summary>Label names of <c>{a="x",b="y \" }"}</c> starting after the brace.</summary>
    private static IEnumerable<string> LabelNamesOf(string line, int i)
    {
        while (line[i] != '}')
        {
            var eq = line.IndexOf('=', i);
            yield return line[i..eq];
            var j = eq + 2; // past ="
            while (line[j] != '"')
            {
                j += line[j] == '\\' ? 2 : 1;
            }

            i = j + 1;
            if (line[i] == ',')
            {
                i++;
            }
        }
    }
}
