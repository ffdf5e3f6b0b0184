using LoopDoctor.Cli.Baselines;
using LoopDoctor.Cli.Findings;

namespace LoopDoctor.Cli.Reporting;

internal enum ReportFormat
{
    Text,
    Json,
    Markdown,

    /// <summary>One self-contained page with the timeline charts (HtmlReportWriter).</summary>
    Html,
}

/// <summary>Picks the writer for a format (one file per writer in Reporting/), and the names the outputs share.</summary>
internal static class Reporters
{
    public static void Write(DiagnosisReport report, ReportFormat format, TextWriter writer) =>
        Pick<DiagnosisReport>(format, TextReportWriter.Write, JsonReportWriter.Write, MarkdownReportWriter.Write, HtmlReportWriter.Write)(report, writer);

    public static void Write(CheckResult result, ReportFormat format, TextWriter writer) =>
        Pick<CheckResult>(format, CheckTextWriter.Write, CheckJsonWriter.Write, CheckMarkdownWriter.Write, HtmlReportWriter.Write)(result, writer);

    // Text is the fallback: it is the default format, and what a human reads when in doubt.
    private static Action<T, TextWriter> Pick<T>(ReportFormat format, Action<T, TextWriter> text, Action<T, TextWriter> json, Action<T, TextWriter> markdown, Action<T, TextWriter> html) => format switch
    {
        ReportFormat.Json => json,
        ReportFormat.Markdown => markdown,
        ReportFormat.Html => html,
        _ => text,
    };

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

    public static string Name(this QueueDelayMaxSource source) => source switch
    {
        QueueDelayMaxSource.WaitingProbe => "waiting-probe",
        QueueDelayMaxSource.SpikeEvent => "spike-event",
        _ => "completed-probes",
    };

    public static string Name(this ReportSource source) => source == ReportSource.File ? "file" : "live";

    public static string Name(this AgentPresence agent) => agent switch
    {
        AgentPresence.Embedded => "embedded",
        AgentPresence.Injected => "injected",
        _ => "none",
    };

    /// <summary>A rule's status as check's text and Markdown show it: a failure stands out in capitals.</summary>
    public static string Label(this RuleStatus status) => status switch
    {
        RuleStatus.Passed => "pass",
        RuleStatus.Failed => "FAIL",
        _ => "skip",
    };
}
