using System.Globalization;
using LoopDoctor.Cli.Baselines;

namespace LoopDoctor.Cli.Rules;

/// <summary><c>queue-delay-p99-max</c>: the judged queue-delay p99 over --max-queue-delay-p99.</summary>
internal sealed class QueueDelayP99MaxRule(double maxMs) : ICheckRule
{
    public RuleResult Evaluate(CheckedRun run) => QueueDelayP99Limit.Judge("queue-delay-p99-max", run.JudgedQueueDelay?.P99, maxMs,
        value => string.Create(CultureInfo.InvariantCulture, $"judged queue-delay p99 {value:0.#} ms <= {maxMs:0.#} ms"),
        value => string.Create(CultureInfo.InvariantCulture, $"judged queue-delay p99 {value:0.#} ms > {maxMs:0.#} ms"),
        value => string.Create(CultureInfo.InvariantCulture, $"queue-delay p99 {value:0.#} ms is over --max-queue-delay-p99 {maxMs:0.#} ms"));
}
