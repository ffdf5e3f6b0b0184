using LoopDoctor.Cli.Baselines;
using LoopDoctor.Cli.Findings;

namespace LoopDoctor.Cli.Rules;

/// <summary>What check judges: the report of the judged window and its typical queue delay (null without agent figures).</summary>
internal sealed record CheckedRun(DiagnosisReport Report, (double P50, double P99)? JudgedQueueDelay);

/// <summary>One regression rule of <c>loopdoctor check</c> (docs/ci.md "Rules"): one JUnit test case.</summary>
internal interface ICheckRule
{
    RuleResult Evaluate(CheckedRun run);
}
