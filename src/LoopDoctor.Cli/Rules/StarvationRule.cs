using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Projections;

namespace LoopDoctor.Cli.Rules;

/// <summary>
/// <c>thread-pool-starvation</c>: a verdict from combined evidence, said in plain words with the numbers.
/// On .NET 10 sync-over-async shows up as CooperativeBlocking injections (reason 8: a pool thread blocked in a
/// Task wait asks for a replacement at once); Starvation injections (reason 6) come only after ~500 ms without a
/// dequeue. Corroborating evidence: queue length growing, worker count climbing, the agent's queue delay, pool
/// threads blocked at once.
/// Reasons: https://learn.microsoft.com/dotnet/fundamentals/diagnostics/runtime-thread-events
/// </summary>
internal sealed class StarvationRule(DiagnosisOptions options) : IFindingRule
{
    public IEnumerable<Finding> Evaluate(DiagnosisProjections projections)
    {
        var pool = projections.ThreadPool;
        var evidence = new List<string>();
        var score = 0;

        if (pool.StarvationInjections > 0)
        {
            evidence.Add($"The runtime injected {pool.StarvationInjections} thread(s) because no queued work item was picked up for about 0.5 s (reason Starvation).");
            score += 4;
        }

        if (pool.CooperativeBlockingInjections > 0)
        {
            evidence.Add($"The runtime injected {pool.CooperativeBlockingInjections} thread(s) to replace pool threads blocked waiting for tasks (reason CooperativeBlocking).");
            score += pool.CooperativeBlockingInjections >= 3 ? 2 : 1;
        }

        var climbed = pool.ThreadCountMax - (pool.ThreadCountMin == int.MaxValue ? pool.ThreadCountMax : pool.ThreadCountMin);
        if (climbed >= 2 && score > 0)
        {
            evidence.Add($"Pool worker threads climbed from {pool.ThreadCountMin} to {pool.ThreadCountMax}.");
            score++;
        }

        if (pool.QueueLengthMax >= 10 && (pool.LastQueueLength ?? 0) >= (pool.FirstQueueLength ?? 0))
        {
            evidence.Add($"Up to {pool.QueueLengthMax} work items waited in the pool's queue.");
            score++;
        }

        if (HighLagRule.GcExplainsLag(projections.GcPauses, options))
        {
            // Lag inside GC pauses is not starvation: every thread stood still, not just the pool's.
            evidence.Add("Queued work waited mostly while the GC stopped every thread (see gc-pause), so the queue delay is not counted here.");
        }
        else if (pool.QueueDelayP99Ms is { } p99 && pool.QueueDelaySustainedOver(options.LagWarningMs))
        {
            evidence.Add($"Queued work waited before starting: {pool.QueueDelay!.Describe()}.");
            score += p99 >= options.LagCriticalMs ? 3 : 1;
        }
        else if (pool.QueueDelayMaxMs is { } max && max >= options.LagCriticalMs)
        {
            evidence.Add($"Queued work waited before starting: {pool.QueueDelay!.Describe()}.");
            score += 2;
        }

        var sampled = projections.BlockedAtOnceSampled;
        var blocked = projections.BlockedAtOnce;
        if (blocked >= 2 && score > 0)
        {
            evidence.Add($"Up to {blocked} threads were blocked in waits at the same time{(sampled ? " (seen in stack samples)" : "")}.");
            score++;
        }

        if (score < 2)
        {
            yield break;
        }

        var severity = score >= 4 ? Severity.Critical : Severity.Warning;
        var injections = pool.StarvationInjections + pool.CooperativeBlockingInjections;
        var title = injections > 0
            ? $"Thread-pool starvation: the runtime had to inject {injections} thread(s) (pool grew to {pool.ThreadCountMax}) because its threads were blocked or busy"
            : $"Thread-pool starvation: queued work waited up to {pool.QueueDelay?.DescribeMax() ?? "n/a"} for a free pool thread";
        yield return new Finding(FindingKinds.ThreadPoolStarvation, severity, title, Advice.Starvation,
            injections, 0, Math.Round(pool.QueueDelayMaxMs ?? 0, 3), [])
        {
            Evidence = evidence,
        };
    }
}
