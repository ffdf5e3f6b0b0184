using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Detectors;

/// <summary>
/// <c>high-lag</c>: the agent's thread-pool queue delay or timer lag over the thresholds (asyncio's LoopMonitor
/// idea: schedule a probe, measure how late it runs). Needs the agent (embedded or injected).
/// </summary>
internal sealed class HighLagDetector : IDetector
{
    public void Observe(Signal signal)
    {
        // ThreadPoolStatistics observes the agent's histograms and spike events.
    }

    public IEnumerable<Finding> GetFindings(DetectionContext context)
    {
        var pool = context.ThreadPool;
        var options = context.Options;
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
            parts.Add($"thread-pool work waited up to {Format.Ms(delay)} to start" + (pool.QueueDelaySpikes > 0 ? $" ({pool.QueueDelaySpikes} probes over the threshold)" : ""));
        }

        if (timerLags)
        {
            parts.Add($"timers fired up to {Format.Ms(lag)} late" + (pool.TimerLagSpikes > 0 ? $" ({pool.TimerLagSpikes} times over the threshold)" : ""));
        }

        var severity = worst >= options.LagCriticalMs ? Severity.Critical : Severity.Warning;
        var title = "High lag: " + string.Join("; ", parts);
        yield return new Finding(FindingKinds.HighLag, severity, title, Advice.HighLag,
            pool.QueueDelaySpikes + pool.TimerLagSpikes, 0, Math.Round(worst, 3), []);
    }
}
