using System.Text.Encodings.Web;
using LoopDoctor.Cli.Findings;

namespace LoopDoctor.Cli.Reporting;

/// <summary>The report's JSON contract (docs/report.schema.json): <see cref="ReportDocument"/> serialized by the source-generated context.</summary>
internal static class JsonReportWriter
{
    public const int SchemaVersion = ReportDocument.CurrentSchemaVersion;

    // Relaxed escaping keeps frames like "<ProcessAsync>d__12" and non-ASCII names readable; the report is never embedded in HTML.
    public static void Write(DiagnosisReport report, TextWriter writer) =>
        writer.WriteLine(ReportJson.Serialize(ReportDocument.From(report), ReportJsonContext.Default.ReportDocument, JavaScriptEncoder.UnsafeRelaxedJsonEscaping));
}
