using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Detectors;

/// <summary>
/// <c>unobserved-task-exception</c>: faulted tasks nobody awaited (fire-and-forget), reported by the agent's
/// EventSource, one finding per exception type with the throwing frames.
/// </summary>
internal sealed class UnobservedTaskExceptionDetector(DetectorOptions options) : IDetector
{
    // Caps keep memory bounded when an app throws endless distinct exceptions; the overflow is counted as "other".
    internal const int MaxTypes = 256;
    internal const int MaxSitesPerType = 256;
    internal const string OtherTypes = "(other exception types)";

    private readonly Dictionary<string, (long Count, Dictionary<string, (IReadOnlyList<string> Frames, long Count)> Sites)> _byType = [];

    public void Observe(Signal signal)
    {
        if (signal is not UnobservedTaskException e)
        {
            return;
        }

        var type = _byType.Count >= MaxTypes && !_byType.ContainsKey(e.ExceptionType) ? OtherTypes : e.ExceptionType;
        if (!_byType.TryGetValue(type, out var entry))
        {
            entry = (0, []);
        }

        var frames = ParseStackTrace(e.StackTrace, options.CallSiteDepth);
        var key = string.Join('|', frames);
        if (entry.Sites.Count >= MaxSitesPerType && !entry.Sites.ContainsKey(key))
        {
            frames = [CallSiteAggregator.OtherCallSites];
            key = CallSiteAggregator.OtherCallSites;
        }

        entry.Sites[key] = entry.Sites.TryGetValue(key, out var site) ? (site.Frames, site.Count + 1) : (frames, 1);
        _byType[type] = (entry.Count + 1, entry.Sites);
    }

    public IEnumerable<Finding> GetFindings(DetectionContext context)
    {
        foreach (var (type, (count, sites)) in _byType.OrderByDescending(t => t.Value.Count))
        {
            var callSites = sites.Values.OrderByDescending(s => s.Count).Take(options.MaxCallSites)
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

    /// <summary>Application frames from an Exception.StackTrace ("   at Ns.Type.Method(args) in file:line"), innermost first.</summary>
    internal static IReadOnlyList<string> ParseStackTrace(string stackTrace, int depth)
    {
        var frames = new List<string>();
        foreach (var raw in stackTrace.Split('\n'))
        {
            var line = raw.Trim();
            if (!line.StartsWith("at ", StringComparison.Ordinal))
            {
                continue;
            }

            var name = CallStack.NormalizeMethodName(line[3..]);
            if (CallStack.IsApplicationFrame(name) && (frames.Count == 0 || frames[^1] != name))
            {
                frames.Add(name);
                if (frames.Count == depth)
                {
                    break;
                }
            }
        }

        return frames;
    }
}
