using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Reporting;
using LoopDoctor.Testing;

namespace LoopDoctor.Cli.Tests.Reporting;

/// <summary>The JSON report validates against docs/report.schema.json (draft 2020-12, JsonSchema.Net).</summary>
public class ReportSchemaTests
{
    // Built once: the schema's $id is registered in the library's global registry.
    private static readonly Lazy<JsonSchema> Schema = new(() => JsonSchema.FromFile(RepoPaths.Combine("docs/report.schema.json")));

    public static TheoryData<string> Reports => new() { "rich", "minimal", "lost-events", "ten-minute-timeline" };

    private static DiagnosisReport ReportNamed(string name) => name switch
    {
        "rich" => ReportGoldenTests.Rich(),
        "minimal" => ReportGoldenTests.Minimal(),
        "ten-minute-timeline" => HtmlReportTests.TenMinuteSession(),
        _ => ReportGoldenTests.Minimal().WithEventsLost(12),
    };

    private static string Json(DiagnosisReport report)
    {
        var writer = new StringWriter();
        JsonReportWriter.Write(report, writer);
        return writer.ToString();
    }

    internal static EvaluationResults Evaluate(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return Schema.Value.Evaluate(doc.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
    }

    internal static string Describe(EvaluationResults results) =>
        string.Join("\n", (results.Details ?? []).Where(d => d.Errors is { Count: > 0 }).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Key}: {e.Value}")));

    [Theory]
    [MemberData(nameof(Reports))]
    public void The_report_validates_against_the_schema(string name)
    {
        var results = Evaluate(Json(ReportNamed(name)));
        Assert.True(results.IsValid, Describe(results));
    }

    [Fact]
    public void The_validator_rejects_a_broken_report()
    {
        var node = JsonNode.Parse(Json(ReportGoldenTests.Rich()))!;
        node["verdict"] = "sick";
        node["findings"]![0]!.AsObject().Remove("callSites");
        Assert.False(Evaluate(node.ToJsonString()).IsValid);
    }
}
