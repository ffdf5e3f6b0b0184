using LoopDoctor.Cli.Reporting;

namespace LoopDoctor.Cli.Findings;

/// <summary>
/// The verdict as one sentence a person reads first, what and why ("STARVING — up to 62 threads were blocked in waits at
/// once, the most time in `.Result` at `X.Y`; the runtime injected 142 threads in 10 s."), and the next step. Built only
/// from the report's findings and figures, so every format says the same.
/// </summary>
internal static class VerdictSentence
{
    public static string Of(DiagnosisReport report)
    {
        var verdict = report.Verdict.Name().ToUpperInvariant();
        var injected = Injected(report);
        if (report.Verdict == Verdict.Healthy)
        {
            var delay = report.ThreadPool.QueueDelayMilliseconds is { P99: { } p99 } ? $"; queue delay p99 {DurationText.FromMilliseconds(p99)}" : "";
            return $"{verdict} — no problem at warning level in {DurationText.FromSeconds(report.DurationSeconds)}{delay}.";
        }

        var cause = CauseOf(report);
        var why = cause is null ? null : Phrase(cause, report.ThreadPool);
        if (report.Verdict == Verdict.Starving)
        {
            return why is null
                ? $"{verdict} — pool threads were blocked or busy but no call site was resolved{(injected is null ? "" : "; " + injected)}."
                : $"{verdict} — {why}{(injected is null ? "" : "; " + injected)}.";
        }

        return $"{verdict} — {why ?? Uncapitalize(report.Findings.First(f => f.Severity >= Severity.Warning).Title)}{(injected is null ? "" : "; " + injected)}.";
    }

    /// <summary>The step to take next: the finding to fix first, or how to learn what the report could not tell.</summary>
    public static string? NextStepOf(DiagnosisReport report)
    {
        if (report.Verdict == Verdict.Healthy)
        {
            return report.Findings.Count == 0
                ? "Keep it so in CI: `loopdoctor check --update-baseline -- CMD` once, then `loopdoctor check -- CMD` (docs/ci.md)."
                : null;
        }

        if (CauseOf(report) is { } cause && cause.CallSites.Count > 0 && report.FindingById(cause.Id) is { Number: var number })
        {
            var explains = report.Findings.Where(f => f.ExplainedBy.Contains(cause.Id)).Select(f => report.FindingById(f.Id)!.Value.Number).ToList();
            return $"Fix finding {number} (`{cause.Kind}` at `{cause.CallSites[0].Describe()}`) first" +
                   (explains.Count == 0 ? "." : $": it explains finding {string.Join(" and ", explains)}.");
        }

        if (report.Verdict == Verdict.Starving)
        {
            return "No call site resolved: diagnose again for longer while the pool starves (the sample profiler names the busy or blocked code).";
        }

        return null;
    }

    /// <summary>The finding that explains the verdict: the first cause linked to starvation (or high lag), else the top warning with a call site.</summary>
    private static Finding? CauseOf(DiagnosisReport report)
    {
        foreach (var effect in report.Findings.Where(f => f.Kind is FindingKinds.ThreadPoolStarvation or FindingKinds.HighLag))
        {
            foreach (var id in effect.ExplainedBy)
            {
                if (report.FindingById(id) is ({ } cause, _) && cause.Kind is not (FindingKinds.ThreadPoolStarvation or FindingKinds.HighLag))
                {
                    return cause;
                }
            }
        }

        return report.Findings.FirstOrDefault(f => f.Severity >= Severity.Warning && f.CallSites.Count > 0 && f.Kind is not (FindingKinds.ThreadPoolStarvation or FindingKinds.HighLag));
    }

    private static string? Phrase(Finding cause, ThreadPoolSummary pool)
    {
        var site = cause.CallSites.Count > 0 ? $"`{cause.CallSites[0].Describe()}`" + (cause.Estimated ? " (estimated from stack samples)" : "") : null;
        return cause.Kind switch
        {
            FindingKinds.BlockingWait when site is not null => pool.BlockedThreadsMax >= 2
                ? $"up to {pool.BlockedThreadsMax} threads were blocked in waits at once, the most time in `{cause.CallSites[0].BlockingApi ?? "a synchronous wait"}` at {site}"
                : $"pool threads were blocked {DurationText.FromMilliseconds(cause.TotalMilliseconds)} in `{cause.CallSites[0].BlockingApi ?? "a synchronous wait"}` at {site}",
            FindingKinds.LongCallback when site is not null => cause.CallSites[0].Activity == "cpu"
                ? $"{cause.Count} work items held pool threads computing for up to {DurationText.FromMilliseconds(cause.MaxMilliseconds)} at {site}"
                : $"{cause.Count} work items held pool threads blocked in {(cause.CallSites[0].BlockingApi is { } api ? $"`{api}`" : "native code")} for up to {DurationText.FromMilliseconds(cause.MaxMilliseconds)} at {site}",
            FindingKinds.LockContention when site is not null =>
                $"threads waited {DurationText.FromMilliseconds(cause.TotalMilliseconds)} for the lock taken at {site}",
            FindingKinds.Deadlock => $"DEADLOCK: {Uncapitalize(cause.Title["Deadlock: ".Length..])}" + (site is null ? "" : $", one at {site}"),
            FindingKinds.HungWait => Uncapitalize(cause.Title),
            FindingKinds.GcPause => $"the GC stopped every managed thread {cause.Count} time{(cause.Count == 1 ? "" : "s")} for up to {DurationText.FromMilliseconds(cause.MaxMilliseconds)}" +
                (site is null ? "" : cause.CallSites[0].BlockingApi == "GC.Collect" ? $", induced by `GC.Collect` at {site}" : $", the most allocation at {site}"),
            FindingKinds.UnobservedTaskException => $"{cause.Count} fire-and-forget task(s) failed with {cause.ExceptionType} and nobody observed it",
            _ => null,
        };
    }

    private static string? Injected(DiagnosisReport report) => report.ThreadPool.InjectionsTotal > 0
        ? $"the runtime injected {report.ThreadPool.InjectionsTotal} thread{(report.ThreadPool.InjectionsTotal == 1 ? "" : "s")} in {DurationText.FromSeconds(report.DurationSeconds)}"
        : null;

    // An acronym ("GC pauses") keeps its capitals.
    private static string Uncapitalize(string text) =>
        text.Length == 0 || (text.Length > 1 && char.IsUpper(text[1])) ? text : char.ToLowerInvariant(text[0]) + text[1..];
}
