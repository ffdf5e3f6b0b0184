using LoopDoctor.Cli.Baselines;

namespace LoopDoctor.Cli.Reporting;

/// <summary>check's verdict as JSON (<c>--format json</c>): <see cref="CheckDocument"/>, with the default (strict) escaping it has always had.</summary>
internal static class CheckJsonWriter
{
    public static void Write(CheckResult result, TextWriter writer) =>
        writer.WriteLine(ReportJson.Serialize(CheckDocument.From(result), ReportJsonContext.Default.CheckDocument));
}
