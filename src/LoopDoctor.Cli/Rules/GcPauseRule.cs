using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Projections;
using LoopDoctor.Cli.Reporting;
using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Rules;

/// <summary>
/// <c>gc-pause</c>: the GC stopped every managed thread for longer than the lag threshold. Induced collections name the
/// GC.Collect call site; collections the allocations caused name the call sites that allocated the most.
/// </summary>
internal sealed class GcPauseRule(DiagnosisOptions options) : IFindingRule
{
    public IEnumerable<Finding> Evaluate(DiagnosisProjections projections)
    {
        var gc = projections.GcPauses;
        var longPauses = gc.Pauses.Where(p => p.DurationMs >= options.LagWarningMs).ToList();
        if (longPauses.Count == 0)
        {
            yield break;
        }

        var total = longPauses.Sum(p => p.DurationMs);
        var longest = longPauses.MaxBy(p => p.DurationMs)!;
        var induced = longPauses.Where(p => p.IsInduced).ToList();
        var title = $"GC pauses: the GC stopped every managed thread {longPauses.Count} time{(longPauses.Count == 1 ? "" : "s")} for longer than " +
                    $"{DurationText.FromMilliseconds(options.LagWarningMs)}, {DurationText.FromMilliseconds(total)} in total, longest " +
                    $"{DurationText.FromMilliseconds(longest.DurationMs)} ({Describe(longest)})";
        var evidence = new List<string>
        {
            $"All GC pauses in the session: {gc.Count}, {DurationText.FromMilliseconds(gc.TotalMs)} in total, over {gc.Collections} collection{(gc.Collections == 1 ? "" : "s")}.",
        };
        evidence.AddRange(longPauses.GroupBy(p => (p.Generation, p.Reason, p.Type))
            .OrderByDescending(g => g.Sum(p => p.DurationMs))
            .Select(g => $"{g.Count()} × {Describe(g.First())}: {DurationText.FromMilliseconds(g.Sum(p => p.DurationMs))} in total, longest {DurationText.FromMilliseconds(g.Max(p => p.DurationMs))}."));
        evidence.Add($"The longest began {DurationText.FromMilliseconds(longest.StartMs)} into the session" + (longest.SuspendingMs * 2 >= longest.DurationMs
            ? $"; {DurationText.FromMilliseconds(longest.SuspendingMs)} of it went to stopping the threads (a thread slow to reach a safe point: a tight loop without calls, or a starved CPU), not to collecting."
            : "."));
        if (LagShareSentence(gc) is { } share)
        {
            evidence.Add(share);
        }

        IReadOnlyList<CallSite> sites;
        string advice;
        if (induced.Count * 2 >= longPauses.Count)
        {
            advice = Advice.GcPauseInduced;
            sites = induced.Where(p => p.InducedAt.Count > 0)
                .GroupBy(p => string.Join('|', p.InducedAt))
                .Select(g => new CallSite(g.First().InducedAt, g.Count(), Math.Round(g.Sum(p => p.DurationMs), 3)) { BlockingApi = "GC.Collect" })
                .OrderByDescending(s => s.TotalMilliseconds)
                .Take(options.MaxCallSites)
                .ToList();
            if (sites.Count == 0)
            {
                evidence.Add("The collections were induced (GC.Collect or a memory-pressure API), but the caller's stack did not resolve.");
            }
        }
        else
        {
            advice = Advice.GcPauseAllocation;
            // Sites of 5% of the sampled bytes and more; LoopDoctor's own loading is not the application's.
            var allocations = gc.TopAllocationSites(options.MaxCallSites + 2)
                .Where(s => s.Frames.Count > 0 && !s.Frames[0].StartsWith("LoopDoctor.StartupHook.", StringComparison.Ordinal) && s.Bytes * 20 >= gc.AllocatedBytes)
                .Take(options.MaxCallSites)
                .ToList();
            sites = allocations.Select(s => new CallSite(s.Frames, s.Samples, 0) { BlockingApi = "new " + s.TopType }).ToList();
            if (gc.AllocatedBytes > 0)
            {
                evidence.AddRange(allocations.Select(s =>
                    $"{s.Frames[0]} allocated about {ByteText.From(s.Bytes)} ({Math.Round(100.0 * s.Bytes / gc.AllocatedBytes)}% of the sampled allocations), mostly {s.TopType}."));
            }
            else
            {
                evidence.Add("No allocation samples arrived (GCAllocationTick needs the GC keyword at Verbose), so the allocating call sites are unknown.");
            }
        }

        var severity = longest.DurationMs >= options.LagCriticalMs ? Severity.Critical : Severity.Warning;
        yield return new Finding(FindingKinds.GcPause, severity, title, advice, longPauses.Count, Math.Round(total, 3), Math.Round(longest.DurationMs, 3), sites)
        {
            Evidence = evidence,
        };
    }

    /// <summary>The share of the agent's measured lag that fell inside GC pauses, in words; null without lag spikes.</summary>
    public static string? LagShareSentence(GcPauses gc)
    {
        var (spikes, lag, inside) = gc.LagInsidePauses();
        return spikes == 0 || lag <= 0
            ? null
            : !gc.EventsSeen
            ? "No GC event arrived (a trace recorded without the runtime's GC keyword): whether GC pauses caused this lag is unknown."
            : $"{Math.Round(100 * inside / lag)}% of the lag the agent measured ({DurationText.FromMilliseconds(inside)} of {DurationText.FromMilliseconds(lag)} over {spikes} late probe{(spikes == 1 ? "" : "s")}) fell inside GC pauses.";
    }

    private static string Describe(GcPause pause) =>
        (pause.Generation >= 0 ? $"gen{pause.Generation}" : "generation unknown") + ", " + pause.Type switch
        {
            GcType.Background => "background",
            GcType.Foreground => "foreground",
            _ => "blocking",
        } + ", " + ReasonText(pause.Reason);

    private static string ReasonText(GcReason reason) => reason switch
    {
        GcReason.SmallObjectAllocation => "allocation",
        GcReason.LargeObjectAllocation => "large object allocation",
        GcReason.Induced => "induced by GC.Collect",
        GcReason.InducedNotForced => "induced (not forced)",
        GcReason.InducedCompacting => "induced, compacting",
        GcReason.InducedLowMemory => "induced by low memory",
        GcReason.LowMemory or GcReason.LowMemoryHost or GcReason.LowMemoryHostBlocking => "low memory",
        GcReason.OutOfSpaceSmallObjectHeap or GcReason.OutOfSpaceLargeObjectHeap => "out of space",
        _ => reason.ToString(),
    };
}
