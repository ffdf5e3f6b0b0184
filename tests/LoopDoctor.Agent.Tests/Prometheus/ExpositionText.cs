using System.Globalization;
using System.Text.RegularExpressions;

namespace LoopDoctor.Agent.Tests.Prometheus;

/// <summary>One parsed sample line.</summary>
internal sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public string Label(string name) => Labels.TryGetValue(name, out var v) ? v : throw new KeyNotFoundException($"{Name} has no label {name}");
}

/// <summary>
/// A strict parser for what our endpoint emits (text 0.0.4 and OpenMetrics 1.0), used to assert on values and to
/// check OpenMetrics structure, which promtool 2.42 cannot parse (it reads text 0.0.4 only).
/// </summary>
internal sealed partial class ExpositionText
{
    private ExpositionText(List<Sample> samples, Dictionary<string, string> types, Dictionary<string, string> helps, Dictionary<string, string> units)
    {
        Samples = samples;
        Types = types;
        Helps = helps;
        Units = units;
    }

    public List<Sample> Samples { get; }
    public Dictionary<string, string> Types { get; }
    public Dictionary<string, string> Helps { get; }
    public Dictionary<string, string> Units { get; }

    public IEnumerable<Sample> Named(string name) => Samples.Where(s => s.Name == name);

    public Sample Single(string name, params (string Key, string Value)[] labels)
    {
        var matches = Samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value)).ToList();
        Assert.True(matches.Count == 1, $"expected exactly one sample {name} {string.Join(",", labels)}, found {matches.Count}");
        return matches[0];
    }

    [GeneratedRegex("^[a-zA-Z_:][a-zA-Z0-9_:]*$")]
    private static partial Regex MetricName();

    [GeneratedRegex("^[a-zA-Z_][a-zA-Z0-9_]*$")]
    private static partial Regex LabelName();

    /// <summary>Parses and validates. In OpenMetrics mode also enforces: # EOF last, family metadata before its samples,
    /// sample names = family name + the suffixes its type allows, UNIT a suffix of the family name, families not interleaved,
    /// histograms with ascending cumulative buckets ending in +Inf equal to _count.</summary>
    public static ExpositionText Parse(string text, bool openMetrics)
    {
        Assert.DoesNotContain("\r", text);
        var samples = new List<Sample>();
        var types = new Dictionary<string, string>();
        var helps = new Dictionary<string, string>();
        var units = new Dictionary<string, string>();
        var finishedFamilies = new HashSet<string>();
        string? currentFamily = null;

        var lines = text.Split('\n');
        Assert.True(lines[^1] == "", "exposition must end with a newline");
        lines = lines[..^1];
        if (openMetrics)
        {
            Assert.True(lines.Length > 0 && lines[^1] == "# EOF", "OpenMetrics must end with '# EOF'");
            lines = lines[..^1];
            Assert.DoesNotContain("# EOF", lines);
        }

        foreach (var line in lines)
        {
            Assert.False(string.IsNullOrEmpty(line) && openMetrics, "OpenMetrics forbids empty lines");
            if (line.StartsWith("# ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ', 4);
                Assert.True(parts.Length >= 3, $"bad comment line: {line}");
                var kind = parts[1];
                var family = parts[2];
                Assert.Matches(MetricName(), family);
                var value = parts.Length == 4 ? parts[3] : "";
                var map = kind switch { "TYPE" => types, "HELP" => helps, "UNIT" => units, _ => null };
                Assert.True(map is not null, $"unknown metadata: {line}");
                Assert.True(map!.TryAdd(family, value), $"duplicate # {kind} for {family}");
                Assert.DoesNotContain(family, finishedFamilies);
                if (currentFamily != family && currentFamily is not null)
                {
                    finishedFamilies.Add(currentFamily);
                }

                currentFamily = family;
                if (kind == "UNIT")
                {
                    Assert.True(openMetrics, "# UNIT is OpenMetrics-only");
                    Assert.EndsWith("_" + value, family);
                }

                continue;
            }

            Assert.False(line.StartsWith('#'), $"stray comment: {line}");
            var sample = ParseSample(line);
            samples.Add(sample);

            var owner = FamilyOf(sample.Name, types, openMetrics);
            Assert.True(owner is not null, $"sample {sample.Name} has no # TYPE before it");
            Assert.True(owner == currentFamily, $"sample {sample.Name} is not inside its family {owner} (families interleave)");
        }

        if (openMetrics)
        {
            foreach (var (family, type) in types)
            {
                Assert.Contains(type, new[] { "counter", "gauge", "histogram" });
            }
        }

        CheckHistograms(samples, types);
        return new ExpositionText(samples, types, helps, units);
    }

    private static string? FamilyOf(string sampleName, Dictionary<string, string> types, bool openMetrics)
    {
        if (types.TryGetValue(sampleName, out var t))
        {
            // In OpenMetrics a counter's samples always carry _total; in text 0.0.4 the family is named x_total itself.
            return openMetrics && t == "counter" ? null : sampleName;
        }

        foreach (var suffix in new[] { "_total", "_bucket", "_sum", "_count" })
        {
            if (sampleName.EndsWith(suffix, StringComparison.Ordinal))
            {
                var family = sampleName[..^suffix.Length];
                if (types.TryGetValue(family, out var type)
                    && ((suffix == "_total" && type == "counter" && openMetrics) || (suffix != "_total" && type == "histogram")))
                {
                    return family;
                }
            }
        }

        return null;
    }

    private static void CheckHistograms(List<Sample> samples, Dictionary<string, string> types)
    {
        foreach (var (family, type) in types)
        {
            if (type != "histogram")
            {
                continue;
            }

            var series = samples.Where(s => s.Name == family + "_bucket")
                .GroupBy(s => string.Join(",", s.Labels.Where(l => l.Key != "le").OrderBy(l => l.Key).Select(l => l.Key + "=" + l.Value)));
            foreach (var buckets in series)
            {
                var list = buckets.ToList();
                Assert.Equal("+Inf", list[^1].Labels["le"]);
                for (var i = 1; i < list.Count; i++)
                {
                    Assert.True(ParseValue(list[i].Labels["le"]) > ParseValue(list[i - 1].Labels["le"]), $"{family}: le not ascending");
                    Assert.True(list[i].Value >= list[i - 1].Value, $"{family}: buckets not cumulative");
                }

                var count = samples.Single(s => s.Name == family + "_count" && SameSeries(s, list[0]));
                Assert.Equal(list[^1].Value, count.Value);
                Assert.Single(samples, s => s.Name == family + "_sum" && SameSeries(s, list[0]));
            }
        }
    }

    private static bool SameSeries(Sample a, Sample b)
        => a.Labels.Where(l => l.Key != "le").OrderBy(l => l.Key).SequenceEqual(b.Labels.Where(l => l.Key != "le").OrderBy(l => l.Key));

    private static Sample ParseSample(string line)
    {
        var i = 0;
        while (i < line.Length && line[i] != '{' && line[i] != ' ')
        {
            i++;
        }

        var name = line[..i];
        Assert.Matches(MetricName(), name);
        var labels = new Dictionary<string, string>();
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (line[i] != '}')
            {
                var eq = line.IndexOf('=', i);
                var labelName = line[i..eq];
                Assert.Matches(LabelName(), labelName);
                Assert.True(line[eq + 1] == '"', $"label value must be quoted: {line}");
                var j = eq + 2;
                var value = new System.Text.StringBuilder();
                while (line[j] != '"')
                {
                    if (line[j] == '\\')
                    {
                        j++;
                        value.Append(line[j] switch
                        {
                            '\\' => '\\',
                            '"' => '"',
                            'n' => '\n',
                            _ => throw new FormatException($"bad escape \\{line[j]} in {line}"),
                        });
                    }
                    else
                    {
                        value.Append(line[j]);
                    }

                    j++;
                }

                Assert.True(labels.TryAdd(labelName, value.ToString()), $"duplicate label {labelName} in {line}");
                i = j + 1;
                if (line[i] == ',')
                {
                    i++;
                }
            }

            i++;
        }

        Assert.True(i < line.Length && line[i] == ' ', $"expected space before value: {line}");
        var rest = line[(i + 1)..];
        Assert.DoesNotContain(" ", rest); // no timestamps, no exemplars
        return new Sample(name, labels, ParseValue(rest));
    }

    public static double ParseValue(string s) => s switch
    {
        "NaN" => double.NaN,
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        _ => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture),
    };
}
