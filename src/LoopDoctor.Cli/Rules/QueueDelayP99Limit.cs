using LoopDoctor.Cli.Baselines;

namespace LoopDoctor.Cli.Rules;

/// <summary>
/// The judged queue-delay p99 against a limit, as both queue-delay rules judge it: skipped without the agent's figures,
/// passed at or under the limit, failed over it.
/// </summary>
internal static class QueueDelayP99Limit
{
    private const string Advice =
        "Work waits in the thread pool's queue: something blocks or hogs pool threads. See the findings for the call sites; make them asynchronous or move them off the pool.";

    public static RuleResult Judge(string rule, double? p99, double limitMs, Func<double, string> passed, Func<double, string> failed, Func<double, string> failure) =>
        p99 is not { } value
            ? new RuleResult(rule, RuleStatus.Skipped, "no queue-delay figures (the agent did not report)", [])
            : value <= limitMs
                ? new RuleResult(rule, RuleStatus.Passed, passed(value), [])
                : new RuleResult(rule, RuleStatus.Failed, failed(value), [new RuleFailure("queue-delay", "(thread pool)", failure(value), Advice)]);
}
