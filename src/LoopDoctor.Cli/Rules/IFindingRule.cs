using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Projections;

namespace LoopDoctor.Cli.Rules;

/// <summary>
/// Turns the projections into findings of one kind. Reads state without changing it, so a report can be built as often
/// as asked (monitor asks every refresh, diagnose once); calls are serialized by the DiagnosisPipeline.
/// </summary>
internal interface IFindingRule
{
    IEnumerable<Finding> Evaluate(DiagnosisProjections projections);
}
