using System.Globalization;
using System.Text.RegularExpressions;
using LoopDoctor.Testing;

namespace BlockingApp.Tests.Infrastructure;

/// <summary>The load driver's <c>summary key=value ...</c> line, parsed.</summary>
public sealed class SummaryLine
{
    public static readonly Regex Pattern = new(@"^summary (?<fields>.*)$", RegexOptions.CultureInvariant);

    private readonly Dictionary<string, string> _fields;

    private SummaryLine(string line, Dictionary<string, string> fields)
    {
        Line = line;
        _fields = fields;
    }

    public string Line { get; }

    public static SummaryLine Parse(string line)
    {
        var match = Pattern.Match(line);
        Assert.True(match.Success, $"not a summary line: {line}");
        var fields = match.Groups["fields"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2))
            .ToDictionary(kv => kv[0], kv => kv.Length > 1 ? kv[1] : "", StringComparer.Ordinal);
        return new SummaryLine(line, fields);
    }

    /// <summary>Waits for the summary line of <paramref name="process"/> and parses it.</summary>
    public static async Task<SummaryLine> ReadAsync(TestProcess process, TimeSpan timeout) =>
        Parse((await process.WaitForLineAsync(Pattern, timeout)).Value);

    public string this[string key] =>
        _fields.TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"'{key}' not in: {Line}");

    public bool Has(string key) => _fields.ContainsKey(key);

    public long Long(string key) => long.Parse(this[key], CultureInfo.InvariantCulture);

    public double Double(string key) => double.Parse(this[key], CultureInfo.InvariantCulture);

    public override string ToString() => Line;
}
