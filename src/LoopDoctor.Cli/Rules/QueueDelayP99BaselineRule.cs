using System.Globalization;
using LoopDoctor.Cli.Baselines;

namespace LoopDoctor.Cli.Rules;

/// <summary><c>queue-delay-p99-baseline</c>: the judged queue-delay p99 above the baseline's, beyond the tolerance.</summary>
internal sealed class QueueDelayP99BaselineRule(AcceptedQueueDelay accepted) : ICheckRule
{
    /// <summary>Tolerance of the baseline p99: at least twice it, and never less than it plus 50 ms (small p99s are noisy on shared CI machines).</summary>
    public const double ToleranceFactor = 2.0;

    public const double ToleranceMinimumMs = 50.0;

    public static double AllowedP99(double baselineP99) => Math.Max(baselineP99 * ToleranceFactor, baselineP99 + ToleranceMinimumMs);

    public RuleResult Evaluate(CheckedRun run)
    {
        var allowed = AllowedP99(accepted.P99);
        return QueueDelayP99Limit.Judge("queue-delay-p99-baseline", run.JudgedQueueDelay?.P99, allowed,
            value => string.Create(CultureInfo.InvariantCulture, $"queue-delay p99 {value:0.#} ms within tolerance of baseline {accepted.P99:0.#} ms (allowed {allowed:0.#} ms)"),
            value => string.Create(CultureInfo.InvariantCulture, $"queue-delay p99 {value:0.#} ms > allowed {allowed:0.#} ms (baseline {accepted.P99:0.#} ms)"),
            value => string.Create(CultureInfo.InvariantCulture, $"queue-delay p99 {value:0.#} ms regressed from the baseline's {accepted.P99:0.#} ms (allowed: max(2 x, +50 ms) = {allowed:0.#} ms)"));
    }
}
