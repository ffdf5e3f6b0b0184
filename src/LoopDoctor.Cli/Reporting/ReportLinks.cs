using LoopDoctor.Cli.Findings;

namespace LoopDoctor.Cli.Reporting;

/// <summary>How the text and Markdown reports word a finding's links and the framework locks folded into it.</summary>
internal static class ReportLinks
{
    /// <summary>"finding 2 (blocking-wait at X.Y)", or null when nothing explains <paramref name="finding"/>.</summary>
    public static string? ExplainedBy(DiagnosisReport report, Finding finding, Func<string, string>? code = null)
    {
        code ??= s => s;
        var causes = finding.ExplainedBy
            .Select(id => report.FindingById(id))
            .OfType<(Finding Finding, int Number)>()
            .Select(c => $"finding {c.Number} ({code(c.Finding.Kind)}{(c.Finding.CallSites.Count > 0 ? " at " + code(c.Finding.CallSites[0].Describe()) : "")})")
            .ToList();
        return causes.Count == 0 ? null : string.Join(", ", causes);
    }

    /// <summary>One framework lock in words: how much, inside which API, where the lock was taken, and whose it is.</summary>
    public static string Describe(FrameworkLock l, Func<string, string>? code = null)
    {
        code ??= s => s;
        return $"{l.Count} contended acquisition{(l.Count == 1 ? "" : "s")} ({DurationText.FromMilliseconds(l.TotalMilliseconds)} waiting, longest {DurationText.FromMilliseconds(l.MaxMilliseconds)}) " +
               $"of a lock inside {code(l.Api)} called at {code(l.Describe())}, taken in {code(l.LockTakenIn)}: the framework's own lock, not one in application code";
    }
}
