using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Rules;

namespace LoopDoctor.Cli.Baselines;

internal enum RuleStatus
{
    Passed,
    Failed,
    Skipped,
}

/// <summary>One failure of a rule: the culprit (kind, call site), why, and the fix.</summary>
internal sealed record RuleFailure(string Kind, string CallSite, string Message, string Advice);

/// <summary>The outcome of one rule (a JUnit test case).</summary>
internal sealed record RuleResult(string Name, RuleStatus Status, string Summary, IReadOnlyList<RuleFailure> Failures);

/// <summary>What check judged, and on what.</summary>
internal sealed record CheckResult(DiagnosisReport Report, (double P50, double P99)? JudgedQueueDelay, IReadOnlyList<RuleResult> Rules, string? BaselinePath, bool BaselineFound, double WarmupSeconds)
{
    public bool Passed => Rules.All(r => r.Status != RuleStatus.Failed);
}

internal sealed record CheckThresholds(double? MaxQueueDelayP99Ms, IReadOnlyList<string> FailOn);

/// <summary>
/// Runs the regression rules of <c>loopdoctor check</c> that the baseline and thresholds ask for, in the order they
/// are reported (docs/ci.md "Rules"): new-culprits, fail-on:KIND per listed kind, queue-delay-p99-max with
/// --max-queue-delay-p99, queue-delay-p99-baseline when the baseline has queue-delay figures.
/// </summary>
internal static class CheckJudge
{
    public static IReadOnlyList<RuleResult> Judge(DiagnosisReport report, (double P50, double P99)? queueDelay, Baseline baseline, bool baselineFound, CheckThresholds thresholds)
    {
        var rules = new List<ICheckRule> { new NewCulpritsRule(baseline, baselineFound) };
        rules.AddRange(thresholds.FailOn.Select(kind => new FailOnKindRule(kind)));
        if (thresholds.MaxQueueDelayP99Ms is { } max)
        {
            rules.Add(new QueueDelayP99MaxRule(max));
        }

        if (baseline.QueueDelayMilliseconds is { } accepted)
        {
            rules.Add(new QueueDelayP99BaselineRule(accepted));
        }

        var run = new CheckedRun(report, queueDelay);
        return rules.Select(rule => rule.Evaluate(run)).ToList();
    }
}
