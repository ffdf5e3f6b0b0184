using LoopDoctor.Cli.Baselines;
using LoopDoctor.Cli.Findings;

namespace LoopDoctor.Cli.Rules;

/// <summary>
/// <c>fail-on:KIND</c>: any warning/critical finding of a kind --fail-on lists, with or without a call site, accepted
/// by the baseline or not.
/// </summary>
internal sealed class FailOnKindRule(string kind) : ICheckRule
{
    public RuleResult Evaluate(CheckedRun run)
    {
        var hits = run.Report.Findings.Where(f => f.Kind == kind && f.Severity >= Severity.Warning).ToList();
        return new RuleResult($"fail-on:{kind}",
            hits.Count == 0 ? RuleStatus.Passed : RuleStatus.Failed,
            hits.Count == 0 ? $"no {kind}" : $"{kind} found; --fail-on lists it",
            hits.Select(f => new RuleFailure(f.Kind, f.CallSites.Count > 0 ? CallSiteKey.Of(f.CallSites[0]) ?? f.CallSites[0].Describe() : f.ExceptionType ?? "(no call site)",
                $"{f.Severity.ToString().ToLowerInvariant()}: {f.Title}", f.Advice)).ToList());
    }
}
