using System.Globalization;
using System.Text;

namespace LoopDoctor.Testing;

/// <summary>One sample line of the Prometheus text format: <c>name{label="value",...} value</c>.</summary>
public sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>A histogram's cumulative buckets (summed over the selected series), with <c>_count</c> and <c>_sum</c>.</summary>
/// <param name="Buckets">(upper bound <c>le</c>, cumulative count), ascending, ending with +Inf when exposed.</param>
public sealed record PrometheusHistogram(IReadOnlyList<(double UpperBound, double CumulativeCount)> Buckets, double Count, double Sum)
{
    /// <summary>
    /// The q-quantile as PromQL's <c>histogram_quantile</c> computes it: find the bucket holding rank q·count and
    /// interpolate linearly inside it (the first bucket's lower bound is 0). A rank in the +Inf bucket yields the highest
    /// finite bound. NaN when there are no observations.
    /// Spec: https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile
    /// </summary>
    public double Quantile(double q)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(q, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(q, 1);
        if (Buckets.Count == 0)
        {
            return double.NaN;
        }

        var total = Buckets[^1].CumulativeCount;
        if (total <= 0)
        {
            return double.NaN;
        }

        var rank = q * total;
        var lowerBound = 0.0;
        var lowerCount = 0.0;
        for (var i = 0; i < Buckets.Count; i++)
        {
            var (upper, cumulative) = Buckets[i];
            if (cumulative >= rank)
            {
                if (double.IsPositiveInfinity(upper))
                {
                    return i > 0 ? Buckets[i - 1].UpperBound : double.PositiveInfinity;
                }

                var inBucket = cumulative - lowerCount;
                return inBucket <= 0 ? upper : lowerBound + (upper - lowerBound) * ((rank - lowerCount) / inBucket);
            }

            lowerBound = upper;
            lowerCount = cumulative;
        }

        return Buckets[^1].UpperBound;
    }

    /// <summary>Observations above <paramref name="bound"/>, which must be one of the bucket bounds.</summary>
    public double CountAbove(double bound)
    {
        foreach (var (upper, cumulative) in Buckets)
        {
            if (upper.Equals(bound))
            {
                return Buckets[^1].CumulativeCount - cumulative;
            }
        }

        throw new ArgumentException($"{bound} is not a bucket bound ({string.Join(", ", Buckets.Select(b => b.UpperBound))}).", nameof(bound));
    }
}

/// <summary>
/// A parsed Prometheus text exposition (format 0.0.4), enough for tests to read counters and histograms.
/// Spec: https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
/// </summary>
public sealed class PrometheusScrape
{
    private PrometheusScrape(IReadOnlyList<PrometheusSample> samples, IReadOnlyDictionary<string, string> types, string text)
    {
        Samples = samples;
        Types = types;
        Text = text;
    }

    public IReadOnlyList<PrometheusSample> Samples { get; }

    /// <summary>Metric family name → type from the <c># TYPE</c> lines.</summary>
    public IReadOnlyDictionary<string, string> Types { get; }

    /// <summary>The raw text, for failure messages.</summary>
    public string Text { get; }

    /// <summary>Parses the text; throws <see cref="FormatException"/> naming the line that is not valid.</summary>
    public static PrometheusScrape Parse(string text)
    {
        var samples = new List<PrometheusSample>();
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        var lineNumber = 0;
        foreach (var rawLine in text.Split('\n'))
        {
            lineNumber++;
            var line = rawLine.TrimEnd('\r').Trim();
            if (line.Length == 0)
            {
                continue;
            }

            if (line[0] == '#')
            {
                var parts = line.Split(' ', 4, StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length >= 4 && parts[1] == "TYPE")
                {
                    types[parts[2]] = parts[3];
                }

                continue;
            }

            samples.Add(ParseSample(line, lineNumber));
        }

        return new PrometheusScrape(samples, types, text);
    }

    /// <summary>Every sample named exactly <paramref name="name"/>.</summary>
    public IEnumerable<PrometheusSample> Series(string name) => Samples.Where(s => s.Name == name);

    /// <summary>The sum over all series named <paramref name="name"/>, or null when none is exposed.</summary>
    public double? Sum(string name)
    {
        double? sum = null;
        foreach (var sample in Series(name))
        {
            sum = (sum ?? 0) + sample.Value;
        }

        return sum;
    }

    /// <summary>
    /// The histogram family <paramref name="name"/> (without <c>_bucket</c>), its buckets summed over all series that
    /// <paramref name="filter"/> accepts (labels other than <c>le</c>). Null when no bucket is exposed.
    /// </summary>
    public PrometheusHistogram? Histogram(string name, Func<IReadOnlyDictionary<string, string>, bool>? filter = null)
    {
        var buckets = new SortedDictionary<double, double>();
        foreach (var sample in Series(name + "_bucket"))
        {
            if (filter is not null && !filter(sample.Labels))
            {
                continue;
            }

            if (!sample.Labels.TryGetValue("le", out var le))
            {
                throw new FormatException($"{name}_bucket sample without an 'le' label.");
            }

            var bound = ParseValue(le);
            buckets[bound] = buckets.GetValueOrDefault(bound) + sample.Value;
        }

        if (buckets.Count == 0)
        {
            return null;
        }

        double Total(string suffix) => Series(name + suffix).Where(s => filter is null || filter(s.Labels)).Sum(s => s.Value);
        return new PrometheusHistogram([.. buckets.Select(b => (b.Key, b.Value))], Total("_count"), Total("_sum"));
    }

    private static PrometheusSample ParseSample(string line, int lineNumber)
    {
        var i = 0;
        while (i < line.Length && line[i] != '{' && line[i] != ' ' && line[i] != '\t')
        {
            i++;
        }

        var name = line[..i];
        if (name.Length == 0)
        {
            throw new FormatException($"Line {lineNumber}: no metric name: {line}");
        }

        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (true)
            {
                while (i < line.Length && (line[i] == ' ' || line[i] == ','))
                {
                    i++;
                }

                if (i < line.Length && line[i] == '}')
                {
                    i++;
                    break;
                }

                var eq = line.IndexOf('=', i);
                if (eq < 0 || eq + 1 >= line.Length || line[eq + 1] != '"')
                {
                    throw new FormatException($"Line {lineNumber}: bad label list: {line}");
                }

                var labelName = line[i..eq].Trim();
                i = eq + 2;
                var value = new StringBuilder();
                while (true)
                {
                    if (i >= line.Length)
                    {
                        throw new FormatException($"Line {lineNumber}: unterminated label value: {line}");
                    }

                    var c = line[i++];
                    if (c == '"')
                    {
                        break;
                    }

                    if (c == '\\' && i < line.Length)
                    {
                        var escaped = line[i++];
                        value.Append(escaped switch { 'n' => '\n', _ => escaped });
                    }
                    else
                    {
                        value.Append(c);
                    }
                }

                labels[labelName] = value.ToString();
            }
        }

        var rest = line[i..].Trim().Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (rest.Length is < 1 or > 2)
        {
            throw new FormatException($"Line {lineNumber}: expected a value (and optional timestamp): {line}");
        }

        return new PrometheusSample(name, labels, ParseValue(rest[0]));
    }

    private static double ParseValue(string text) => text switch
    {
        "+Inf" or "Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new FormatException($"Not a Prometheus number: '{text}'"),
    };
}
