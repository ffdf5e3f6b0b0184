using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using LoopDoctor.Cli.Baselines;
using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Reporting;
using LoopDoctor.Testing;

namespace LoopDoctor.Cli.Tests.Reporting;

/// <summary>
/// The OASIS SARIF 2.1.0 schema (schemas/sarif-schema-2.1.0.json, the errata-01 file as published) with JsonSchema.Net.
/// The file declares JSON Schema draft-04, which the library does not implement; the keywords it uses (type,
/// properties, $ref to #/definitions, enum, pattern, minimum, ...) mean the same in draft-07, so it is evaluated as
/// draft-07 without its draft-04 <c>id</c> (every <c>$ref</c> in it is local).
/// </summary>
internal static class SarifSchema
{
    private static readonly Lazy<JsonSchema> Schema = new(() =>
    {
        var node = JsonNode.Parse(File.ReadAllText(RepoPaths.Combine("tests/LoopDoctor.Cli.Tests/Reporting/schemas/sarif-schema-2.1.0.json")))!.AsObject();
        node["$schema"] = "http://json-schema.org/draft-07/schema#";
        node.Remove("id");
        return JsonSchema.FromText(node.ToJsonString());
    });

    public static void AssertValid(string sarif)
    {
        using var doc = JsonDocument.Parse(sarif);
        var results = Schema.Value.Evaluate(doc.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(results.IsValid, string.Join("\n", (results.Details ?? []).Where(d => d.Errors is { Count: > 0 }).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Key}: {e.Value}"))));
    }

    public static bool IsValid(string sarif)
    {
        using var doc = JsonDocument.Parse(sarif);
        return Schema.Value.Evaluate(doc.RootElement).IsValid;
    }
}

public class SarifTests
{
    private static CheckResult Judged(Baseline baseline)
    {
        var report = ReportGoldenTests.Rich();
        var rules = CheckJudge.Judge(report, null, baseline, baselineFound: true, new CheckThresholds(null, []));
        return new CheckResult(report, null, rules, "baseline.json", true, 1);
    }

    [Fact]
    public void Each_new_culprit_is_one_result_with_its_frames_as_logical_locations_and_the_file_validates()
    {
        var sarif = SarifWriter.ToJson(Judged(Baseline.Empty));

        SarifSchema.AssertValid(sarif);
        using var doc = JsonDocument.Parse(sarif);
        var results = doc.RootElement.GetProperty("runs")[0].GetProperty("results").EnumerateArray().ToList();
        // Rich's culprits: the blocking wait's top site, the long callback's, the exception type.
        Assert.Equal(["blocking-wait", "long-callback", "unobserved-task-exception"], results.Select(r => r.GetProperty("ruleId").GetString()));
        var wait = results[0];
        Assert.Equal("error", wait.GetProperty("level").GetString());
        var location = wait.GetProperty("locations")[0].GetProperty("logicalLocations")[0];
        Assert.Equal("MyApp.Worker.ProcessAsync", location.GetProperty("fullyQualifiedName").GetString());
        Assert.Equal("ProcessAsync", location.GetProperty("name").GetString());
        Assert.False(wait.GetProperty("locations")[0].TryGetProperty("physicalLocation", out _));
        var frames = wait.GetProperty("stacks")[0].GetProperty("frames").EnumerateArray()
            .Select(f => f.GetProperty("location").GetProperty("logicalLocations")[0].GetProperty("fullyQualifiedName").GetString()).ToList();
        Assert.Equal(["MyApp.Worker+<ProcessAsync>d__12.MoveNext", "MyApp.Cache`1[System.String].Get", "MyApp.Program.Main"], frames);
        Assert.Equal("blocking-wait|MyApp.Worker.ProcessAsync", wait.GetProperty("partialFingerprints").GetProperty(SarifWriter.FingerprintKey).GetString());
        Assert.Contains(Advice.SyncOverAsync, wait.GetProperty("message").GetProperty("text").GetString());
    }

    [Fact]
    public void A_frame_the_portable_pdb_maps_gets_its_file_and_the_method_s_first_line()
    {
        // This test assembly and its portable PDB: a plain method and an async one (its state machine maps back to it).
        var sources = SourceLocations.FromDirectory(AppContext.BaseDirectory);
        var plain = sources.Find("LoopDoctor.Cli.Tests.Reporting.SarifTests.The_validator_rejects_a_broken_file");
        var asyncMethod = sources.Find("LoopDoctor.Cli.Tests.Reporting.HtmlReportTests.Chromium_draws_every_chart_of_a_ten_minute_session_on_one_axis");
        Assert.NotNull(plain);
        Assert.EndsWith("SarifTests.cs", plain.Path);
        Assert.True(plain.Line > 1, plain.ToString());
        Assert.NotNull(asyncMethod);
        Assert.EndsWith("HtmlReportTests.cs", asyncMethod.Path);

        var report = ReportGoldenTests.Minimal() with
        {
            Findings =
            [
                new Finding(FindingKinds.BlockingWait, Severity.Critical, "Sync-over-async", Advice.SyncOverAsync, 10, 500, 100,
                    [new CallSite(["LoopDoctor.Cli.Tests.Reporting.SarifTests.The_validator_rejects_a_broken_file", "Unmapped.Caller.Run"], 10, 500) { BlockingApi = ".Result" }]),
            ],
        };
        var rules = CheckJudge.Judge(report, null, Baseline.Empty, baselineFound: false, new CheckThresholds(null, []));
        var sarif = SarifWriter.ToJson(new CheckResult(report, null, rules, null, false, 1), sources);

        SarifSchema.AssertValid(sarif);
        using var doc = JsonDocument.Parse(sarif);
        var result = doc.RootElement.GetProperty("runs")[0].GetProperty("results")[0];
        var physical = result.GetProperty("locations")[0].GetProperty("physicalLocation");
        Assert.EndsWith("SarifTests.cs", physical.GetProperty("artifactLocation").GetProperty("uri").GetString());
        Assert.Equal(plain.Line, physical.GetProperty("region").GetProperty("startLine").GetInt32());
        var frames = result.GetProperty("stacks")[0].GetProperty("frames");
        Assert.True(frames[0].GetProperty("location").TryGetProperty("physicalLocation", out _));
        Assert.False(frames[1].GetProperty("location").TryGetProperty("physicalLocation", out _));
    }

    [Fact]
    public void A_culprit_the_baseline_accepts_is_no_result()
    {
        var baseline = Baseline.FromReport(ReportGoldenTests.Rich(), null);

        var sarif = SarifWriter.ToJson(Judged(baseline));

        SarifSchema.AssertValid(sarif);
        using var doc = JsonDocument.Parse(sarif);
        Assert.Equal(0, doc.RootElement.GetProperty("runs")[0].GetProperty("results").GetArrayLength());
    }

    [Fact]
    public void The_validator_rejects_a_broken_file()
    {
        var node = JsonNode.Parse(SarifWriter.ToJson(Judged(Baseline.Empty)))!;
        node["runs"]![0]!["results"]![0]!["level"] = "fatal";

        Assert.False(SarifSchema.IsValid(node.ToJsonString()));
    }
}
