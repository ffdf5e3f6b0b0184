using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Projections;
using LoopDoctor.Cli.Reporting;

namespace LoopDoctor.Cli.Rules;

/// <summary>
/// <c>high-lag</c>: the agent's thread-pool queue delay or timer lag over the thresholds (asyncio's LoopMonitor
/// idea: schedule a probe, measure how late it runs). Needs the agent (embedded or injected).
/// </summary>
internal sealed class HighLagRule(DiagnosisOptions options) : IFindingRule
{
    public IEnumerable<Finding> Evaluate(DiagnosisProjections projections)
    {
        var pool = projections.ThreadPool;
        var delay = pool.QueueDelayMaxMs ?? 0;
        var lag = pool.TimerLagMaxMs ?? 0;
        var worst = Math.Max(delay, lag);
        var delayLags = pool.QueueDelaySustainedOver(options.LagWarningMs);
        var timerLags = pool.TimerLagSustainedOver(options.LagWarningMs);
        if (!delayLags && !timerLags)
        {
            yield break;
        }

        var parts = new List<string>();
        if (delayLags)
        {
            parts.Add($"thread-pool work waited up to {pool.QueueDelay!.DescribeMax()} to start" + (pool.QueueDelaySpikes > 0 ? $"; {pool.QueueDelaySpikes} probe{(pool.QueueDelaySpikes == 1 ? "" : "s")} over the threshold" : ""));
        }

        if (timerLags)
        {
            parts.Add($"timers fired up to {DurationText.FromMilliseconds(lag)} late" + (pool.TimerLagSpikes > 0 ? $" ({pool.TimerLagSpikes} time{(pool.TimerLagSpikes == 1 ? "" : "s")} over the threshold)" : ""));
        }

        var severity = worst >= options.LagCriticalMs ? Severity.Critical : Severity.Warning;
        var title = "High lag: " + string.Join("; ", parts);
        var gcShare = GcPauseRule.LagShareSentence(projections.GcPauses);
        var gcExplains = GcExplainsLag(projections.GcPauses, options);
        if (gcExplains)
        {
            title += " (mostly inside GC pauses)";
        }

        yield return new Finding(FindingKinds.HighLag, severity, title, Advice.HighLag,
            pool.QueueDelaySpikes + pool.TimerLagSpikes, 0, Math.Round(worst, 3), [])
        {
            Evidence = gcShare is null ? [] : [gcShare],
            // FindingLinks keeps this link: lag the GC explains is not the pool's doing.
            ExplainedBy = gcExplains ? [FindingKinds.GcPause] : [],
        };
    }

    /// <summary>
    /// Whether GC pauses over the lag threshold happened and at least half of the agent's measured lag fell inside GC
    /// pauses: then the lag is the GC's, not a starving pool's.
    /// </summary>
    public static bool GcExplainsLag(GcPauses gc, DiagnosisOptions options)
    {
        var (_, lag, inside) = gc.LagInsidePauses();
        return lag > 0 && inside * 2 >= lag && gc.Pauses.Any(p => p.DurationMs >= options.LagWarningMs);
    }
}
