using LoopDoctor.Cli.Findings;

namespace LoopDoctor.Cli.Projections;

/// <summary>
/// Sums durations by (thread, call site) so findings can be filtered by thread afterwards and then merged by call site,
/// ranked by total time. Memory is bounded by event count never: at most <see cref="MaxEntries"/> (thread, call site)
/// pairs are kept apart; later new pairs are counted in one "other call sites" entry per thread, so totals stay right
/// under an event flood or a long monitor whose stacks keep changing.
/// </summary>
internal sealed class CallSiteTotals(int maxEntries = CallSiteTotals.MaxEntries)
{
    /// <summary>Distinct (thread, call site) pairs kept by default: a few hundred KB at most.</summary>
    public const int MaxEntries = 4096;

    /// <summary>The frame naming the overflow entry.</summary>
    public const string OtherCallSites = "(other call sites)";

    private static readonly IReadOnlyList<string> OtherFrames = [OtherCallSites];

    private readonly Dictionary<(int ThreadId, string Key), Entry> _entries = [];

    /// <summary>Call-site observations folded into "other" because the cap was reached.</summary>
    public long Overflowed { get; private set; }

    public void Add(int threadId, IReadOnlyList<string> frames, string? blockingApi, double durationMs, CallbackActivity? activity = null)
    {
        var key = KeyOf(frames, activity);
        if (!_entries.TryGetValue((threadId, key), out var entry))
        {
            if (_entries.Count >= maxEntries)
            {
                Overflowed++;
                frames = OtherFrames;
                key = KeyOf(frames, activity);
                blockingApi = null;
            }

            if (!_entries.TryGetValue((threadId, key), out entry))
            {
                entry = new Entry(frames, activity);
                _entries.Add((threadId, key), entry);
            }
        }

        entry.Count++;
        entry.TotalMs += durationMs;
        entry.MaxMs = Math.Max(entry.MaxMs, durationMs);
        entry.BlockingApi = MoreSpecific(entry.BlockingApi, blockingApi);
    }

    // One call site per frames and activity: a CPU-bound and a blocked episode at the same frames are told apart.
    private static string KeyOf(IReadOnlyList<string> frames, CallbackActivity? activity) => string.Join('|', frames) + "#" + activity;

    /// <summary>
    /// The more telling of two names for one call site's blocking API: ".Result" beats "Monitor.Wait" (the primitive
    /// under it, or the fallback when framework frames did not resolve), which beats nothing.
    /// </summary>
    public static string? MoreSpecific(string? current, string? candidate) =>
        candidate is null || current == candidate ? current
        : current is null || current == "Monitor.Wait" ? candidate
        : current;

    /// <summary>Merged call sites on the threads <paramref name="include"/> accepts, most total time first.</summary>
    public Summary Summarize(Func<int, bool> include, int maxCallSites, IEnumerable<(IReadOnlyList<string> Frames, string? Api, double DurationMs, CallbackActivity? Activity)>? inProgress = null)
    {
        var merged = new Dictionary<string, Entry>();
        void Merge(string key, IReadOnlyList<string> frames, string? api, CallbackActivity? activity, long count, double total, double max)
        {
            if (!merged.TryGetValue(key, out var m))
            {
                m = new Entry(frames, activity);
                merged.Add(key, m);
            }

            m.Count += count;
            m.TotalMs += total;
            m.MaxMs = Math.Max(m.MaxMs, max);
            m.BlockingApi = MoreSpecific(m.BlockingApi, api);
        }

        foreach (var ((threadId, key), e) in _entries)
        {
            if (include(threadId))
            {
                Merge(key, e.Frames, e.BlockingApi, e.Activity, e.Count, e.TotalMs, e.MaxMs);
            }
        }

        foreach (var (frames, api, duration, activity) in inProgress ?? [])
        {
            Merge(KeyOf(frames, activity), frames, api, activity, 1, duration, duration);
        }

        var ranked = merged.Values.OrderByDescending(e => e.TotalMs).ToList();
        return new Summary(
            ranked.Sum(e => e.Count),
            ranked.Sum(e => e.TotalMs),
            ranked.Count == 0 ? 0 : ranked.Max(e => e.MaxMs),
            ranked.Take(maxCallSites)
                .Select(e => new CallSite(e.Frames, e.Count, Math.Round(e.TotalMs, 3)) { BlockingApi = e.BlockingApi, Activity = e.Activity?.ToName() })
                .ToList());
    }

    public sealed record Summary(long Count, double TotalMs, double MaxMs, IReadOnlyList<CallSite> CallSites);

    private sealed class Entry(IReadOnlyList<string> frames, CallbackActivity? activity)
    {
        public IReadOnlyList<string> Frames { get; } = frames;
        public CallbackActivity? Activity { get; } = activity;
        public string? BlockingApi { get; set; }
        public long Count { get; set; }
        public double TotalMs { get; set; }
        public double MaxMs { get; set; }
    }
}
