using System.Reflection;
using System.Text;
using System.Text.Json;
using LoopDoctor.Cli.Baselines;
using LoopDoctor.Cli.Findings;

namespace LoopDoctor.Cli.Reporting;

/// <summary>
/// check's <c>--sarif FILE</c>: SARIF 2.1.0 (docs/ci.md), one result per culprit the new-culprits rule failed on, its
/// call site as a logical location and its application frames as a stack; a physical location (file and the method's
/// first line) where the app's portable PDBs map the frame (<see cref="SourceLocations"/>), none where they do not.
/// </summary>
internal static class SarifWriter
{
    public const string SchemaUri = "https://json.schemastore.org/sarif-2.1.0.json";

    /// <summary>partialFingerprints key: kind and normalized call site, stable across builds like the baseline's keys.</summary>
    public const string FingerprintKey = "loopdoctorCallSite/v1";

    private static readonly (string Kind, string Description)[] Rules =
    [
        (FindingKinds.BlockingWait, "A thread-pool thread blocks in a synchronous wait (sync-over-async: .Result, .Wait(), GetAwaiter().GetResult())."),
        (FindingKinds.LockContention, "Threads queue for a contended lock."),
        (FindingKinds.LongCallback, "A work item holds a thread-pool thread for longer than the slow-callback threshold."),
        (FindingKinds.UnobservedTaskException, "A faulted task's exception was never observed."),
        (FindingKinds.ThreadPoolStarvation, "The thread pool starves: work waits for a thread and the runtime injects threads."),
        (FindingKinds.HighLag, "Work queued to the thread pool or a timer starts late."),
        (FindingKinds.GcPause, "The GC stops every managed thread for longer than the lag threshold (GC.Collect, or allocation)."),
        (FindingKinds.Deadlock, "Threads wait for each other's locks in a cycle: none of them will ever run again."),
        (FindingKinds.HungWait, "Threads have been stuck in the same wait for longer than the hung-wait threshold."),
    ];

    public static void Write(CheckResult result, SourceLocations sources, string path)
    {
        try
        {
            File.WriteAllText(path, ToJson(result, sources), new UTF8Encoding(false));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new LoopDoctorException(ExitCode.UsageError, $"Cannot write the SARIF file '{path}': {ex.Message}", ex);
        }
    }

    /// <summary>The culprits new-culprits failed on, in the report's order.</summary>
    public static IReadOnlyList<Culprit> NewCulprits(CheckResult result)
    {
        var failed = result.Rules.Where(r => r.Name == "new-culprits").SelectMany(r => r.Failures).Select(f => (f.Kind, f.CallSite)).ToHashSet();
        return Culprits.Of(result.Report).Where(c => failed.Contains((c.Kind, c.Key))).ToList();
    }

    public static string ToJson(CheckResult result, SourceLocations? sources = null)
    {
        sources ??= SourceLocations.None;
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("$schema", SchemaUri);
            json.WriteString("version", "2.1.0");
            json.WriteStartArray("runs");
            json.WriteStartObject();
            WriteTool(json);
            json.WriteStartArray("results");
            foreach (var culprit in NewCulprits(result))
            {
                WriteResult(json, culprit, sources);
            }

            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static void WriteTool(Utf8JsonWriter json)
    {
        var version = typeof(SarifWriter).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";
        json.WriteStartObject("tool");
        json.WriteStartObject("driver");
        json.WriteString("name", "loopdoctor");
        json.WriteString("semanticVersion", version);
        json.WriteString("informationUri", "https://github.com/loopdoctor/loopdoctor");
        json.WriteStartArray("rules");
        foreach (var (kind, description) in Rules)
        {
            json.WriteStartObject();
            json.WriteString("id", kind);
            json.WriteStartObject("shortDescription");
            json.WriteString("text", description);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteResult(Utf8JsonWriter json, Culprit culprit, SourceLocations sources)
    {
        var finding = culprit.Finding;
        json.WriteStartObject();
        json.WriteString("ruleId", culprit.Kind);
        json.WriteNumber("ruleIndex", Array.FindIndex(Rules, r => r.Kind == culprit.Kind));
        json.WriteString("level", culprit.Severity == Severity.Critical ? "error" : "warning");
        json.WriteStartObject("message");
        json.WriteString("text", $"New {culprit.Describe()}: {finding.Title} Fix: {finding.Advice}");
        json.WriteEndObject();
        json.WriteStartArray("locations");
        json.WriteStartObject();
        // The innermost application frame the PDBs map: the call site's method, else its nearest caller that maps.
        if (culprit.CallSite?.Frames.Select(f => sources.Find(CallSiteKey.Normalize(f))).FirstOrDefault(l => l is not null) is { } source)
        {
            WritePhysicalLocation(json, source);
        }

        json.WriteStartArray("logicalLocations");
        WriteLogicalLocation(json, culprit.Key, culprit.CallSite is null ? "type" : "function");
        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteStartObject("partialFingerprints");
        json.WriteString(FingerprintKey, culprit.Kind + "|" + culprit.Key);
        json.WriteEndObject();
        if (culprit.CallSite is { Frames.Count: > 0 } site)
        {
            json.WriteStartArray("stacks");
            json.WriteStartObject();
            json.WriteStartObject("message");
            json.WriteString("text", "Application frames, innermost first" + (site.BlockingApi is { } api ? $", calling {api}" : "") + ".");
            json.WriteEndObject();
            json.WriteStartArray("frames");
            foreach (var frame in site.Frames)
            {
                json.WriteStartObject();
                json.WriteStartObject("location");
                if (sources.Find(CallSiteKey.Normalize(frame)) is { } frameSource)
                {
                    WritePhysicalLocation(json, frameSource);
                }

                json.WriteStartArray("logicalLocations");
                WriteLogicalLocation(json, frame, "function");
                json.WriteEndArray();
                json.WriteEndObject();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndArray();
        }

        json.WriteStartObject("properties");
        json.WriteNumber("count", culprit.CallSite?.Count ?? finding.Count);
        json.WriteNumber("totalMilliseconds", Math.Round(culprit.CallSite?.TotalMilliseconds ?? finding.TotalMilliseconds, 3));
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>
    /// A file under the current directory (where CI runs check: the repository) as a relative URI, as code scanning
    /// expects; a deterministic build's "/_/" path (the repository root, ContinuousIntegrationBuild) likewise; elsewhere a file: URI.
    /// </summary>
    private static void WritePhysicalLocation(Utf8JsonWriter json, SourceLocation source)
    {
        var relative = source.Path.StartsWith("/_/", StringComparison.Ordinal) ? source.Path[3..] : Path.GetRelativePath(Environment.CurrentDirectory, source.Path);
        var uri = Path.IsPathRooted(relative) || relative.StartsWith("..", StringComparison.Ordinal)
            ? new Uri(source.Path).AbsoluteUri
            : string.Join('/', relative.Split('/', '\\').Select(Uri.EscapeDataString));
        json.WriteStartObject("physicalLocation");
        json.WriteStartObject("artifactLocation");
        json.WriteString("uri", uri);
        json.WriteEndObject();
        json.WriteStartObject("region");
        json.WriteNumber("startLine", source.Line);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteLogicalLocation(Utf8JsonWriter json, string fullyQualifiedName, string kind)
    {
        json.WriteStartObject();
        // The short name is the last segment before any parameter list ("Wait" of "MyApp.Other.Wait(System.Int32)").
        var head = fullyQualifiedName.Split('(')[0];
        var dot = head.LastIndexOf('.');
        json.WriteString("name", dot >= 0 && dot < head.Length - 1 ? head[(dot + 1)..] : head);
        json.WriteString("fullyQualifiedName", fullyQualifiedName);
        json.WriteString("kind", kind);
        json.WriteEndObject();
    }
}
