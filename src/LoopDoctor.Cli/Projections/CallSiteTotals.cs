using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Signals;

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

    private static readonly Attribution Other = new([OtherCallSites]);

    private readonly Dictionary<(int ThreadId, string Key), Entry> _entries = [];

    /// <summary>Call-site observations folded into "other" because the cap was reached.</summary>
    public long Overflowed { get; private set; }

    /// <summary>Application frames only (tests, and callers with nothing else known).</summary>
    public void Add(int threadId, IReadOnlyList<string> frames, string? blockingApi, double durationMs, CallbackActivity? activity = null) =>
        Add(threadId, new Attribution(frames), blockingApi, durationMs, activity);

    public void Add(int threadId, Attribution site, string? blockingApi, double durationMs, CallbackActivity? activity = null)
    {
        var key = KeyOf(site, activity);
        if (!_entries.TryGetValue((threadId, key), out var entry))
        {
            if (_entries.Count >= maxEntries)
            {
                Overflowed++;
                site = Other;
                key = KeyOf(site, activity);
                blockingApi = null;
            }

            if (!_entries.TryGetValue((threadId, key), out entry))
            {
                entry = new Entry(site, activity);
                _entries.Add((threadId, key), entry);
            }
        }

        entry.Site = MoreTelling(entry.Site, site);
        entry.Count++;
        entry.TotalMs += durationMs;
        entry.MaxMs = Math.Max(entry.MaxMs, durationMs);
        entry.BlockingApi = MoreSpecific(entry.BlockingApi, blockingApi);
    }

    // One call site per attribution and activity: a CPU-bound and a blocked episode at the same frames are told apart.
    private static string KeyOf(Attribution site, CallbackActivity? activity) => site.Key + "#" + activity;

    // One site's observations can differ in what was known (a path seen on one request, an action name on the next, what
    // the wait waited for on a third): the most telling, with the awaited task of another when it has none.
    private static Attribution MoreTelling(Attribution current, Attribution candidate)
    {
        var (best, other) = candidate.Specificity > current.Specificity ? (candidate, current) : (current, candidate);
        return best.Awaits is null && other.Awaits is not null ? best with { Awaits = other.Awaits } : best;
    }

    /// <summary>
    /// The more telling of two names for one call site's blocking API: ".Result" beats "Monitor.Wait" (the primitive
    /// under it, or the fallback when framework frames did not resolve), which beats nothing.
    /// </summary>
    public static string? MoreSpecific(string? current, string? candidate) =>
        candidate is null || current == candidate ? current
        : current is null || current == "Monitor.Wait" || current == CallStack.InlinedTaskWait || current == CallStack.UnknownNativeCall ? candidate
        : current;

    /// <summary>Merged call sites on the threads <paramref name="include"/> accepts, most total time first.</summary>
    /// <param name="also">Another projection's totals merged in (the blocking waits older than the session, read from samples).</param>
    public Summary Summarize(Func<int, bool> include, int maxCallSites, IEnumerable<(Attribution Site, string? Api, double DurationMs, CallbackActivity? Activity)>? inProgress = null, CallSiteTotals? also = null)
    {
        var merged = new Dictionary<string, Entry>();
        void Merge(string key, Attribution site, string? api, CallbackActivity? activity, long count, double total, double max)
        {
            if (!merged.TryGetValue(key, out var m))
            {
                m = new Entry(site, activity);
                merged.Add(key, m);
            }

            m.Site = MoreTelling(m.Site, site);
            m.Count += count;
            m.TotalMs += total;
            m.MaxMs = Math.Max(m.MaxMs, max);
            m.BlockingApi = MoreSpecific(m.BlockingApi, api);
        }

        foreach (var ((threadId, key), e) in also is null ? _entries : _entries.Concat(also._entries))
        {
            if (include(threadId))
            {
                Merge(key, e.Site, e.BlockingApi, e.Activity, e.Count, e.TotalMs, e.MaxMs);
            }
        }

        foreach (var (site, api, duration, activity) in inProgress ?? [])
        {
            Merge(KeyOf(site, activity), site, api, activity, 1, duration, duration);
        }

        var ranked = merged.Values.OrderByDescending(e => e.TotalMs).ToList();
        return new Summary(
            ranked.Sum(e => e.Count),
            ranked.Sum(e => e.TotalMs),
            ranked.Count == 0 ? 0 : ranked.Max(e => e.MaxMs),
            ranked.Take(maxCallSites)
                .Select(e => CallSite.From(e.Site, e.Count, Math.Round(e.TotalMs, 3)) with { BlockingApi = e.BlockingApi, Activity = e.Activity?.ToName() })
                .ToList());
    }

    public sealed record Summary(long Count, double TotalMs, double MaxMs, IReadOnlyList<CallSite> CallSites);

    private sealed class Entry(Attribution site, CallbackActivity? activity)
    {
        public Attribution Site { get; set; } = site;
        public CallbackActivity? Activity { get; } = activity;
        public string? BlockingApi { get; set; }
        public long Count { get; set; }
        public double TotalMs { get; set; }
        public double MaxMs { get; set; }
    }
}
