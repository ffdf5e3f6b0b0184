using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Projections;

/// <summary>
/// Faulted tasks nobody awaited, reported by the agent's EventSource: counted by exception type and, within a type,
/// by the throwing frames.
/// </summary>
internal sealed class UnobservedTaskExceptions(int callSiteDepth) : IProjection
{
    // Caps keep memory bounded when an app throws endless distinct exceptions; the overflow is counted as "other".
    private const int MaxTypes = 256;
    private const int MaxSitesPerType = 256;
    private const string OtherTypes = "(other exception types)";

    private readonly Dictionary<string, (long Count, Dictionary<string, (IReadOnlyList<string> Frames, long Count)> Sites)> _byType = [];

    /// <summary>Per exception type: how many, and how many from each throwing call site.</summary>
    public IEnumerable<(string Type, long Count, IEnumerable<(IReadOnlyList<string> Frames, long Count)> Sites)> ByType =>
        _byType.Select(t => (t.Key, t.Value.Count, (IEnumerable<(IReadOnlyList<string> Frames, long Count)>)t.Value.Sites.Values));

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

        var frames = ParseStackTrace(e.StackTrace, callSiteDepth);
        var key = string.Join('|', frames);
        if (entry.Sites.Count >= MaxSitesPerType && !entry.Sites.ContainsKey(key))
        {
            frames = [CallSiteTotals.OtherCallSites];
            key = CallSiteTotals.OtherCallSites;
        }

        entry.Sites[key] = entry.Sites.TryGetValue(key, out var site) ? (site.Frames, site.Count + 1) : (frames, 1);
        _byType[type] = (entry.Count + 1, entry.Sites);
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
