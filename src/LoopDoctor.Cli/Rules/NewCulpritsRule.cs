using LoopDoctor.Cli.Baselines;

namespace LoopDoctor.Cli.Rules;

/// <summary><c>new-culprits</c>: a warning/critical finding at a call site the baseline does not accept.</summary>
internal sealed class NewCulpritsRule(Baseline baseline, bool baselineFound) : ICheckRule
{
    public RuleResult Evaluate(CheckedRun run)
    {
        var culprits = Culprits.Of(run.Report).ToList();
        var fresh = culprits.Where(c => !baseline.Accepts(c.Kind, c.Key)).ToList();
        return new RuleResult("new-culprits",
            fresh.Count == 0 ? RuleStatus.Passed : RuleStatus.Failed,
            fresh.Count == 0
                ? $"no culprit outside the baseline ({culprits.Count} accepted)"
                : $"{fresh.Count} culprit(s) not in the {(baselineFound ? "baseline" : "(missing, so empty) baseline")}",
            fresh.Select(c => new RuleFailure(c.Kind, c.Key, $"new {c.Finding.Severity.ToString().ToLowerInvariant()} {c.Describe()}: {c.Finding.Title}", c.Finding.Advice)).ToList());
    }
}
