using System.Globalization;
using LoopDoctor.Cli.Findings;

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
/// The regression rules of <c>loopdoctor check</c> (docs/ci.md "Rules"):
/// new-culprits (a warning/critical finding at a call site the baseline does not accept),
/// fail-on:KIND (any warning/critical finding of a listed kind, accepted or not),
/// queue-delay-p99-max (p99 over --max-queue-delay-p99),
/// queue-delay-p99-baseline (p99 above max(2 × baseline p99, baseline p99 + 50 ms)).
/// </summary>
internal static class CheckJudge
{
    /// <summary>Tolerance of the baseline p99: at least twice it, and never less than it plus 50 ms (small p99s are noisy on shared CI machines).</summary>
    public const double ToleranceFactor = 2.0;

    public const double ToleranceMinimumMs = 50.0;

    public static double AllowedP99(double baselineP99) => Math.Max(baselineP99 * ToleranceFactor, baselineP99 + ToleranceMinimumMs);

    public static IReadOnlyList<RuleResult> Judge(DiagnosisReport report, (double P50, double P99)? queueDelay, Baseline baseline, bool baselineFound, CheckThresholds thresholds)
    {
        var inv = CultureInfo.InvariantCulture;
        var culprits = Culprits.Of(report).ToList();
        var rules = new List<RuleResult>();

        var fresh = culprits.Where(c => !baseline.Accepts(c.Kind, c.Key)).ToList();
        rules.Add(new RuleResult("new-culprits",
            fresh.Count == 0 ? RuleStatus.Passed : RuleStatus.Failed,
            fresh.Count == 0
                ? $"no culprit outside the baseline ({culprits.Count} accepted)"
                : $"{fresh.Count} culprit(s) not in the {(baselineFound ? "baseline" : "(missing, so empty) baseline")}",
            fresh.Select(c => new RuleFailure(c.Kind, c.Key, $"new {c.Finding.Severity.ToString().ToLowerInvariant()} {c.Describe()}: {c.Finding.Title}", c.Finding.Advice)).ToList()));

        foreach (var kind in thresholds.FailOn)
        {
            // Every warning/critical finding of the kind, with or without a call site, accepted by the baseline or not.
            var hits = report.Findings.Where(f => f.Kind == kind && f.Severity >= Severity.Warning).ToList();
            rules.Add(new RuleResult($"fail-on:{kind}",
                hits.Count == 0 ? RuleStatus.Passed : RuleStatus.Failed,
                hits.Count == 0 ? $"no {kind}" : $"{kind} found; --fail-on lists it",
                hits.Select(f => new RuleFailure(f.Kind, f.CallSites.Count > 0 ? CallSiteKey.Normalize(f.CallSites[0].Describe()) : f.ExceptionType ?? "(no call site)",
                    $"{f.Severity.ToString().ToLowerInvariant()}: {f.Title}", f.Advice)).ToList()));
        }

        var p99 = queueDelay?.P99;
        if (thresholds.MaxQueueDelayP99Ms is { } max)
        {
            rules.Add(p99 is not { } value
                ? new RuleResult("queue-delay-p99-max", RuleStatus.Skipped, "no queue-delay figures (the agent did not report)", [])
                : value <= max
                    ? new RuleResult("queue-delay-p99-max", RuleStatus.Passed, string.Create(inv, $"judged queue-delay p99 {value:0.#} ms <= {max:0.#} ms"), [])
                    : new RuleResult("queue-delay-p99-max", RuleStatus.Failed, string.Create(inv, $"judged queue-delay p99 {value:0.#} ms > {max:0.#} ms"),
                        [new RuleFailure("queue-delay", "(thread pool)", string.Create(inv, $"queue-delay p99 {value:0.#} ms is over --max-queue-delay-p99 {max:0.#} ms"), QueueDelayAdvice)]));
        }

        if (baseline.QueueDelayMilliseconds is { } accepted)
        {
            var allowed = AllowedP99(accepted.P99);
            rules.Add(p99 is not { } value
                ? new RuleResult("queue-delay-p99-baseline", RuleStatus.Skipped, "no queue-delay figures (the agent did not report)", [])
                : value <= allowed
                    ? new RuleResult("queue-delay-p99-baseline", RuleStatus.Passed, string.Create(inv, $"queue-delay p99 {value:0.#} ms within tolerance of baseline {accepted.P99:0.#} ms (allowed {allowed:0.#} ms)"), [])
                    : new RuleResult("queue-delay-p99-baseline", RuleStatus.Failed, string.Create(inv, $"queue-delay p99 {value:0.#} ms > allowed {allowed:0.#} ms (baseline {accepted.P99:0.#} ms)"),
                        [new RuleFailure("queue-delay", "(thread pool)", string.Create(inv, $"queue-delay p99 {value:0.#} ms regressed from the baseline's {accepted.P99:0.#} ms (allowed: max(2 x, +50 ms) = {allowed:0.#} ms)"), QueueDelayAdvice)]));
        }

        return rules;
    }

    private const string QueueDelayAdvice =
        "Work waits in the thread pool's queue: something blocks or hogs pool threads. See the findings for the call sites; make them asynchronous or move them off the pool.";
}
