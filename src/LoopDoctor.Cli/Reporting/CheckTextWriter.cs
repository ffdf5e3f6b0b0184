using LoopDoctor.Cli.Baselines;

namespace LoopDoctor.Cli.Reporting;

/// <summary>check's human verdict (<c>--format text</c>, the default): the outcome, then each rule with its failures and the fix.</summary>
internal static class CheckTextWriter
{
    public static void Write(CheckResult result, TextWriter w)
    {
        var r = result.Report;
        w.WriteLine($"loopdoctor check: {(result.Passed ? "PASSED" : "FAILED")} — {r.Target.ProcessName} (pid {r.Target.ProcessId}, {r.Target.RuntimeText}), " +
                    $"{DurationText.FromSeconds(r.DurationSeconds)} observed, the first {DurationText.FromSeconds(result.WarmupSeconds)} not judged (warm-up)");
        w.WriteLine($"baseline: {(result.BaselinePath is null ? "none" : result.BaselinePath + (result.BaselineFound ? "" : " (not found: every culprit is new)"))}");
        if (r.ThreadPool.QueueDelayMilliseconds is { } d && result.JudgedQueueDelay is { } j)
        {
            w.WriteLine($"queue delay: judged p50 {DurationText.FromMilliseconds(j.P50)}, p99 {DurationText.FromMilliseconds(j.P99)} (median of 1 s intervals); " +
                        $"worst interval p99 {(d.P99 is { } worst ? DurationText.FromMilliseconds(worst) : "n/a")}");
        }

        foreach (var rule in result.Rules)
        {
            w.WriteLine($"  [{rule.Status.Label()}] {rule.Name}: {rule.Summary}");
            foreach (var failure in rule.Failures)
            {
                w.WriteLine($"         - {failure.Message}");
                w.WriteLine($"           fix: {failure.Advice}");
            }
        }
    }
}
