using LoopDoctor.Cli.Baselines;

namespace LoopDoctor.Cli.Reporting;

/// <summary>check's verdict as Markdown (<c>--format markdown</c> and the GitHub job summary): a rule table, then each failure with the fix.</summary>
internal static class CheckMarkdownWriter
{
    public static void Write(CheckResult result, TextWriter w)
    {
        var target = result.Report.Target;
        w.WriteLine($"### LoopDoctor check: {(result.Passed ? "✅ passed" : "❌ failed")}");
        w.WriteLine();
        w.WriteLine($"`{Escape(target.ProcessName)}` (pid {target.ProcessId}, {target.RuntimeText}), {DurationText.FromSeconds(result.Report.DurationSeconds)} observed, " +
                    $"warm-up {DurationText.FromSeconds(result.WarmupSeconds)} excluded" +
                    (result.JudgedQueueDelay is { } d ? $"; judged queue-delay p99 {DurationText.FromMilliseconds(d.P99)}" : "") + ".");
        w.WriteLine();
        w.WriteLine("| rule | result | details |");
        w.WriteLine("|---|---|---|");
        foreach (var rule in result.Rules)
        {
            w.WriteLine($"| `{rule.Name}` | {rule.Status.Label()} | {Escape(rule.Summary)} |");
        }

        var failures = result.Rules.SelectMany(rule => rule.Failures).ToList();
        if (failures.Count > 0)
        {
            w.WriteLine();
            foreach (var failure in failures)
            {
                w.WriteLine($"- **{Escape(failure.Kind)}** at `{Escape(failure.CallSite)}`: {Escape(failure.Message)}  ");
                w.WriteLine($"  _Fix:_ {Escape(failure.Advice)}");
            }
        }

        w.WriteLine();
    }

    // Pipes too (unlike the report's Markdown): every line here may sit in a table cell.
    private static string Escape(string text) =>
        text.Replace("|", "\\|", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
}
