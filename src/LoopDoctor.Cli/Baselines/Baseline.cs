using System.Globalization;
using System.Text;
using System.Text.Json;
using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Reporting;

namespace LoopDoctor.Cli.Baselines;

/// <summary>Accepted queue-delay percentiles (milliseconds).</summary>
internal sealed record AcceptedQueueDelay(double P50, double P99);

/// <summary>
/// The accepted state of an application: culprit call sites per finding kind (normalized keys, see
/// <see cref="CallSiteKey"/>) and queue-delay percentiles. Written as diff-friendly JSON: sorted keys and arrays,
/// two-space indentation, trailing newline, no timestamps (<see cref="BaselineDocument"/>).
/// </summary>
internal sealed record Baseline(IReadOnlyDictionary<string, IReadOnlyList<string>> CallSites, AcceptedQueueDelay? QueueDelayMilliseconds)
{
    public const int FormatVersion = 1;

    public static Baseline Empty { get; } = new(new Dictionary<string, IReadOnlyList<string>>(), null);

    public bool Accepts(string kind, string key) => CallSites.TryGetValue(kind, out var keys) && keys.Contains(key, StringComparer.Ordinal);

    /// <summary>The culprits of a report: warning/critical findings only (info is noise), with their normalized call sites.</summary>
    public static Baseline FromReport(DiagnosisReport report, (double P50, double P99)? queueDelay)
    {
        var sites = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (var culprit in Culprits.Of(report))
        {
            if (!sites.TryGetValue(culprit.Kind, out var keys))
            {
                sites[culprit.Kind] = keys = new SortedSet<string>(StringComparer.Ordinal);
            }

            keys.Add(culprit.Key);
        }

        var delay = queueDelay is { } d ? new AcceptedQueueDelay(Math.Round(d.P50, 1), Math.Round(d.P99, 1)) : null;
        return new Baseline(sites.ToDictionary(p => p.Key, p => (IReadOnlyList<string>)p.Value.ToList(), StringComparer.Ordinal), delay);
    }

    public static Baseline Load(string path)
    {
        try
        {
            var document = JsonSerializer.Deserialize(File.ReadAllText(path), ReportJsonContext.Default.BaselineDocument)
                           ?? throw new JsonException("The baseline is null, not an object.");
            var sites = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
            foreach (var (kind, keys) in document.CallSites ?? new Dictionary<string, IReadOnlyList<string?>?>())
            {
                // Empty or null keys name no call site: skipped, as hand-edited files may have them.
                sites[kind] = (keys ?? []).OfType<string>().Where(key => key.Length > 0).ToList();
            }

            var delay = document.QueueDelayMilliseconds is { P50: { } p50, P99: { } p99 } ? new AcceptedQueueDelay(p50, p99) : null;
            return new Baseline(sites, delay);
        }
        catch (Exception ex) when (ex is JsonException or IOException or UnauthorizedAccessException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            throw new LoopDoctorException(ExitCode.UsageError, $"Cannot read the baseline '{path}': {ex.Message}", ex);
        }
    }

    /// <summary>The file's text: ordinal-sorted kinds and keys, two-space indentation, "\n" line ends and a trailing newline (diff-friendly).</summary>
    public string ToJson()
    {
        var sites = new SortedDictionary<string, IReadOnlyList<string?>?>(StringComparer.Ordinal);
        foreach (var (kind, keys) in CallSites)
        {
            sites[kind] = keys.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        }

        var delay = QueueDelayMilliseconds is { } d ? new QueueDelayDocument(d.P50, d.P99) : null;
        var json = ReportJson.Serialize(new BaselineDocument(sites, FormatVersion, delay), ReportJsonContext.Default.BaselineDocument);
        return json.Replace("\r\n", "\n", StringComparison.Ordinal) + "\n";
    }

    public void Save(string path)
    {
        try
        {
            File.WriteAllText(path, ToJson(), new UTF8Encoding(false));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new LoopDoctorException(ExitCode.UsageError, $"Cannot write the baseline '{path}': {ex.Message}", ex);
        }
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{CallSites.Sum(p => p.Value.Count)} call sites, p99 {QueueDelayMilliseconds?.P99}");
}

/// <summary>One culprit: a warning or critical finding at one call site.</summary>
internal sealed record Culprit(string Kind, string Key, Severity Severity, Finding Finding, CallSite? CallSite)
{
    public string Describe() => CallSite is null ? Kind : $"{Kind} at {Key}" + (CallSite.BlockingApi is { } api ? $" ({api})" : "");
}

internal static class Culprits
{
    /// <summary>Call sites below this share of their finding's time are not culprits (they come and go between runs).</summary>
    public const double MinimumShare = 0.2;

    /// <summary>A call site must cost at least this much in the judged window (asyncio's slow-callback threshold): marginal ones flicker.</summary>
    public const double MinimumMilliseconds = 100;

    public static IEnumerable<Culprit> Of(DiagnosisReport report)
    {
        foreach (var finding in report.Findings.Where(f => f.Severity >= Severity.Warning))
        {
            if (finding.CallSites.Count == 0)
            {
                // Symptoms without a call site (starvation, lag) are judged by the queue-delay rules and --fail-on, not as
                // culprits: their presence near a threshold varies with the machine's load. An exception type is a culprit.
                if (finding.ExceptionType is { } type)
                {
                    yield return new Culprit(finding.Kind, type, finding.Severity, finding, null);
                }

                continue;
            }

            var total = finding.CallSites.Sum(c => c.TotalMilliseconds);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < finding.CallSites.Count; i++)
            {
                var site = finding.CallSites[i];
                if (i > 0 && (total <= 0 || site.TotalMilliseconds / total < MinimumShare))
                {
                    continue;
                }

                // Neither an application frame nor a stable endpoint name: nothing to fix or accept by name.
                if (CallSiteKey.Of(site) is not { } key || (finding.Kind != FindingKinds.UnobservedTaskException && site.TotalMilliseconds < MinimumMilliseconds))
                {
                    continue;
                }

                if (seen.Add(key))
                {
                    yield return new Culprit(finding.Kind, key, finding.Severity, finding, site);
                }
            }
        }
    }
}
