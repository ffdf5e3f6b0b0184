using System.IO.Compression;
using System.Text.Json;
using LoopDoctor.Cli.Signals;
using LoopDoctor.Cli.Tests.CommandLine;
using LoopDoctor.Cli.Tests.Integration;
using LoopDoctor.Testing;

namespace LoopDoctor.Cli.Tests.Reporting;

/// <summary>
/// The wording of whole reports on real traces of samples/BlockingApp (traces/README.md says how they were recorded):
/// <c>analyze</c> on each, in every format, compared with golden/recorded-*. Set LOOPDOCTOR_UPDATE_GOLDEN=1 to rewrite the
/// reports, LOOPDOCTOR_RECORD_TRACES=1 to record the traces again first (needs BlockingApp built).
/// </summary>
[Collection(RealProcessCollection.Name)]
public class RecordedTraceGoldenTests
{
    private const string TraceDirectory = "tests/LoopDoctor.Cli.Tests/Reporting/traces";

    /// <summary>Scenario and request rate: the demo's sync-over-async, a contended lock, synchronous HttpClient.Send.</summary>
    public static TheoryData<string, int> Scenarios => new() { { "sync-over-async", 50 }, { "lock", 30 }, { "sync-io", 40 } };

    [Theory]
    [MemberData(nameof(Scenarios))]
    public async Task Reports_on_recorded_traces_are_unchanged(string scenario, int rps)
    {
        var trace = RepoPaths.Combine($"{TraceDirectory}/{scenario}.nettrace.gz");
        if (Environment.GetEnvironmentVariable("LOOPDOCTOR_RECORD_TRACES") == "1")
        {
            await RecordAsync(scenario, rps, trace);
        }

        var path = Path.Combine(Path.GetTempPath(), $"loopdoctor-recorded-{scenario}-{Guid.NewGuid():N}.nettrace");
        try
        {
            await using (var compressed = new GZipStream(File.OpenRead(trace), CompressionMode.Decompress))
            await using (var file = File.Create(path))
            {
                await compressed.CopyToAsync(file);
            }

            foreach (var (format, extension) in new[] { ("text", "txt"), ("markdown", "md"), ("json", "json") })
            {
                var result = await CliRunner.RunAsync("analyze", path, "--format", format);
                Assert.True(result.ExitCode is 0 or 1, result.Error);
                ReportGoldenTests.AssertGolden($"recorded-{scenario}.{extension}", result.Out);
                if (format == "json")
                {
                    var schema = ReportSchemaTests.Evaluate(result.Out);
                    Assert.True(schema.IsValid, ReportSchemaTests.Describe(schema));
                    AssertLockContentionCallSitesTakeTheLock(result.Out);
                }
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Every lock-contention call site on a real trace starts with an application frame (the one that took the lock).</summary>
    private static void AssertLockContentionCallSitesTakeTheLock(string json)
    {
        using var doc = JsonDocument.Parse(json);
        foreach (var finding in doc.RootElement.GetProperty("findings").EnumerateArray().Where(f => f.GetProperty("kind").GetString() == "lock-contention"))
        {
            foreach (var site in finding.GetProperty("callSites").EnumerateArray())
            {
                var frame = site.GetProperty("frames")[0].GetString()!;
                Assert.True(CallStack.IsApplicationFrame(frame), frame);
            }
        }
    }

    /// <summary>
    /// BlockingApp (its agent embedded) under the scenario's built-in load, recorded for 4 s as dotnet-trace would with
    /// loopdoctor's providers minus the sample profiler (its samples would make the file tens of MB), then gzipped.
    /// </summary>
    private static async Task RecordAsync(string scenario, int rps, string trace)
    {
        using var app = await TargetApp.StartAsync(RepoPaths.BlockingAppDll, "--scenario", scenario, "--rps", rps.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var raw = trace + ".tmp";
        await TraceRecorder.RecordAsync(app.ProcessId, raw, TimeSpan.FromSeconds(4), sampleStacks: false);

        app.Kill();
        Directory.CreateDirectory(Path.GetDirectoryName(trace)!);
        await using (var input = File.OpenRead(raw))
        await using (var output = new GZipStream(File.Create(trace), CompressionLevel.SmallestSize))
        {
            await input.CopyToAsync(output);
        }

        File.Delete(raw);
    }
}
