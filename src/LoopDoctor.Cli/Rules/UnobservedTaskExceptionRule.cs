using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Projections;

namespace LoopDoctor.Cli.Rules;

/// <summary>
/// <c>unobserved-task-exception</c>: faulted tasks nobody awaited (fire-and-forget), one finding per exception type
/// with the throwing frames, most frequent first.
/// </summary>
internal sealed class UnobservedTaskExceptionRule(DiagnosisOptions options) : IFindingRule
{
    public IEnumerable<Finding> Evaluate(DiagnosisProjections projections)
    {
        foreach (var (type, count, sites) in projections.UnobservedTaskExceptions.ByType.OrderByDescending(t => t.Count))
        {
            var callSites = sites.OrderByDescending(s => s.Count).Take(options.MaxCallSites)
                .Select(s => new CallSite(s.Frames, s.Count, 0)).ToList();
            var where = callSites.Count > 0 && callSites[0].Frames.Count > 0 ? $" thrown at {callSites[0].Frames[0]}" : "";
            yield return new Finding(FindingKinds.UnobservedTaskException, Severity.Warning,
                $"Unobserved task exceptions: {count} × {type}{where} (a fire-and-forget task failed and nobody saw it)",
                Advice.UnobservedTaskException, count, 0, 0, callSites)
            {
                ExceptionType = type,
            };
        }
    }
}
