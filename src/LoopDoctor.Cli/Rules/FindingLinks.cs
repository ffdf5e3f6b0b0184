using LoopDoctor.Cli.Findings;

namespace LoopDoctor.Cli.Rules;

/// <summary>
/// Makes the findings one story: gives each an id, folds contention on framework-internal locks into the finding of the
/// application call that reached them (the blocking wait at <c>.Result</c>, the long callback in <c>HttpClient.Send</c>),
/// and links each effect to its causes (starvation and high lag ← the call sites that hold pool threads).
/// </summary>
internal static class FindingLinks
{
    // What holds pool threads, in the order a reader should fix them.
    private static readonly string[] PoolHolders = [FindingKinds.Deadlock, FindingKinds.BlockingWait, FindingKinds.LongCallback, FindingKinds.LockContention, FindingKinds.HungWait];

    /// <param name="findings">The rules' findings.</param>
    /// <param name="frameworkLocks">Contention on locks framework code took, most time first.</param>
    /// <param name="options">Thresholds: framework contention no finding explains is reported from the lock-contention warning total up.</param>
    /// <returns>The findings in report order (most severe first, starvation first among equals, then by time), linked.</returns>
    public static List<Finding> Link(IEnumerable<Finding> findings, IReadOnlyList<FrameworkLock> frameworkLocks, DiagnosisOptions options)
    {
        var linked = WithIds(Fold(findings.ToList(), frameworkLocks, options.LockContentionWarningTotalMs)
            .OrderByDescending(f => f.Severity)
            .ThenByDescending(f => f.Kind == FindingKinds.ThreadPoolStarvation)
            .ThenByDescending(f => f.TotalMilliseconds)
            .ToList());
        var causes = linked.Where(f => PoolHolders.Contains(f.Kind) && f.Severity >= Severity.Warning && f.CallSites.Count > 0)
            .OrderBy(f => Array.IndexOf(PoolHolders, f.Kind))
            .Select(f => f.Id)
            .ToList();
        var starvation = linked.FirstOrDefault(f => f.Kind == FindingKinds.ThreadPoolStarvation)?.Id;
        return linked.Select(f => f.Kind switch
        {
            FindingKinds.ThreadPoolStarvation => f with { ExplainedBy = causes },
            FindingKinds.HighLag when f.ExplainedBy.Contains(FindingKinds.GcPause) => f,
            FindingKinds.HighLag => f with { ExplainedBy = starvation is null ? causes : [starvation] },
            _ => f,
        }).ToList();
    }

    /// <summary>
    /// Each framework lock goes to the finding with a call site on its application call chain. The rest (mostly async
    /// continuations with no application frame at all) are the framework's business: reported only when they add up to
    /// <paramref name="reportFromMs"/>, under lock-contention.
    /// </summary>
    private static List<Finding> Fold(List<Finding> findings, IReadOnlyList<FrameworkLock> frameworkLocks, double reportFromMs)
    {
        var folded = new Dictionary<int, List<FrameworkLock>>();
        var rest = new List<FrameworkLock>();
        foreach (var frameworkLock in frameworkLocks)
        {
            var owner = OwnerOf(findings, frameworkLock.Frames);
            if (owner < 0)
            {
                rest.Add(frameworkLock);
                continue;
            }

            if (!folded.TryGetValue(owner, out var list))
            {
                folded[owner] = list = [];
            }

            list.Add(frameworkLock);
        }

        foreach (var (index, locks) in folded)
        {
            findings[index] = findings[index] with { FrameworkLocks = [.. findings[index].FrameworkLocks, .. locks] };
        }

        if (rest.Count > 0 && rest.Sum(l => l.TotalMilliseconds) >= reportFromMs)
        {
            var locks = findings.FindIndex(f => f.Kind == FindingKinds.LockContention);
            if (locks >= 0)
            {
                findings[locks] = findings[locks] with { FrameworkLocks = [.. findings[locks].FrameworkLocks, .. rest] };
            }
            else
            {
                findings.Add(LockContentionRule.FrameworkOnly(rest));
            }
        }

        return findings;
    }

    // The finding whose call site is the application frame that called into the framework; failing that, one whose call
    // site is further out on the same call chain (a Task.Delay inside the method a blocking wait waits for). Blocking waits
    // first (a task wait's own lock is part of the wait), then long callbacks, then any other finding.
    private static int OwnerOf(List<Finding> findings, IReadOnlyList<string> applicationFrames)
    {
        if (applicationFrames.Count == 0)
        {
            return -1;
        }

        foreach (var exact in new[] { true, false })
        {
            foreach (var kind in new[] { FindingKinds.BlockingWait, FindingKinds.LongCallback, null })
            {
                var index = findings.FindIndex(f => (kind is null ? f.Kind != FindingKinds.LockContention : f.Kind == kind)
                                                    && f.CallSites.Any(site => site.Frames.Count > 0 && (exact
                                                        ? site.Frames[0] == applicationFrames[0]
                                                        : applicationFrames.Contains(site.Frames[0]))));
                if (index >= 0)
                {
                    return index;
                }
            }
        }

        return -1;
    }

    private static List<Finding> WithIds(List<Finding> findings)
    {
        var seen = new Dictionary<string, int>();
        return findings.Select(f =>
        {
            var n = seen[f.Kind] = seen.GetValueOrDefault(f.Kind) + 1;
            return f with { Id = n == 1 ? f.Kind : $"{f.Kind}-{n}" };
        }).ToList();
    }
}
