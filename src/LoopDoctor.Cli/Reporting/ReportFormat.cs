using LoopDoctor.Cli.Findings;

namespace LoopDoctor.Cli.Reporting;

internal enum ReportFormat
{
    Text,
    Json,
    Markdown,
}

internal static class Reporters
{
    public static void Write(DiagnosisReport report, ReportFormat format, TextWriter writer)
    {
        switch (format)
        {
            case ReportFormat.Json:
                JsonReportWriter.Write(report, writer);
                break;
            case ReportFormat.Markdown:
                MarkdownReportWriter.Write(report, writer);
                break;
            default:
                TextReportWriter.Write(report, writer);
                break;
        }
    }

    public static string Name(this Severity severity) => severity switch
    {
        Severity.Critical => "critical",
        Severity.Warning => "warning",
        _ => "info",
    };

    public static string Name(this Verdict verdict) => verdict switch
    {
        Verdict.Starving => "starving",
        Verdict.Degraded => "degraded",
        _ => "healthy",
    };

    public static string Name(this AgentPresence agent) => agent switch
    {
        AgentPresence.Embedded => "embedded",
        AgentPresence.Injected => "injected",
        _ => "none",
    };
}
