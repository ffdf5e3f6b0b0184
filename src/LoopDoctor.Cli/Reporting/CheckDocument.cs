using LoopDoctor.Cli.Baselines;

namespace LoopDoctor.Cli.Reporting;

/// <summary>check's verdict as JSON (docs/ci.md "Outputs"), built once from a <see cref="CheckResult"/>; parameter order is the wire order.</summary>
internal sealed record CheckDocument(
    bool Passed,
    string? Baseline,
    bool BaselineFound,
    double WarmupSeconds,
    double DurationSeconds,
    TargetDocument Target,
    QueueDelayDocument? QueueDelayMilliseconds,
    IReadOnlyList<RuleDocument> Rules,
    IReadOnlyList<CulpritDocument> Culprits)
{
    public static CheckDocument From(CheckResult result)
    {
        var report = result.Report;
        // The judged figures, beside the report's worst interval; null unless both exist.
        var delay = report.ThreadPool.QueueDelayMilliseconds is { } d && result.JudgedQueueDelay is { } j
            ? new QueueDelayDocument(j.P50, j.P99, WorstIntervalP99: d.P99)
            : null;
        return new CheckDocument(
            result.Passed,
            result.BaselinePath,
            result.BaselineFound,
            result.WarmupSeconds,
            report.DurationSeconds,
            TargetDocument.From(report.Target),
            delay,
            result.Rules.Select(RuleDocument.From).ToList(),
            Baselines.Culprits.Of(report).Select(c => new CulpritDocument(c.Kind, c.Key, c.Severity.Name())).ToList());
    }
}

internal sealed record RuleDocument(string Name, string Status, string Summary, IReadOnlyList<RuleFailureDocument> Failures)
{
    public static RuleDocument From(RuleResult rule) => new(
        rule.Name,
        rule.Status.ToString().ToLowerInvariant(),
        rule.Summary,
        rule.Failures.Select(f => new RuleFailureDocument(f.Kind, f.CallSite, f.Message, f.Advice)).ToList());
}

internal sealed record RuleFailureDocument(string Kind, string CallSite, string Message, string Advice);

internal sealed record CulpritDocument(string Kind, string CallSite, string Severity);
