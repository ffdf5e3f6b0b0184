using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Projections;

/// <summary>
/// Work items that held a pool thread longer than the threshold, from the sample profiler: consecutive samples of one
/// thread whose outermost application frame (the work item's entry point above the pool's dispatch loop) stays the
/// same form an episode; without an application frame (the JIT inlined an MVC action into the framework's compiled
/// invoker), the compiled delegate and the request served, else — for blocked work only — the work item's outermost
/// frame. Samples in a known blocking call (Thread.Sleep, synchronous I/O) or outside managed code mean blocked, in an
/// unknown native call when no API is known; only managed samples (or a known native computing frame) mean CPU.
/// The blocking waits and contended locks seen on each thread are kept too, so an episode that was
/// mostly one of those is told apart (blocking-wait and lock-contention report it).
/// </summary>
/// <param name="episodeEnded">Told each counted episode's start and end (ms), for the timeline.</param>
/// <param name="gcPausedMs">How long GC pauses stopped every thread between two times (ms): left out of an episode's
/// duration, so a work item is not long because the GC suspended it.</param>
internal sealed class LongCallbacks(int callSiteDepth, double thresholdMs, Action<double, double>? episodeEnded = null, Func<double, double, double>? gcPausedMs = null, IRequestLookup? requests = null) : IProjection
{
    // Waits shorter than this cannot make up most of a long callback; keeping only longer ones bounds memory.
    private const double IntervalKeepMs = 20;

    // Per thread, the waits kept for the "mostly waiting" test: enough for any one episode, bounded for a long monitor.
    private const int MaxIntervalsPerThread = 256;

    private readonly Dictionary<int, Episode> _current = [];
    private readonly Dictionary<int, List<(double Start, double End)>> _waitIntervals = [];
    private readonly Dictionary<int, double> _openWaits = [];

    /// <summary>
    /// Ended episodes over the threshold and not mostly waiting, by thread and call site: aggregated at once (not
    /// kept), so memory stays bounded however long the session runs.
    /// </summary>
    public CallSiteTotals Ended { get; } = new();

    /// <summary>Episodes still running, one per thread.</summary>
    public IEnumerable<Episode> Current => _current.Values;

    public void Observe(Signal signal)
    {
        switch (signal)
        {
            case StackSample sample:
                OnSample(sample);
                break;
            case PoolThreadSeen seen when _current.TryGetValue(seen.ThreadId, out var ended) && seen.TimestampMs >= ended.LastMs:
                // The thread dequeued the next work item (or parked): the current one ended, even if it was the same code.
                // An older event is ignored: monitor's on-lag samples come from a second session, which can run ahead.
                _current.Remove(seen.ThreadId);
                Close(ended);
                break;
            case WaitStarted wait:
                _openWaits[wait.ThreadId] = wait.TimestampMs;
                break;
            case WaitStopped stop when _openWaits.Remove(stop.ThreadId, out var start):
                AddInterval(stop.ThreadId, start, stop.TimestampMs);
                break;
            case ContentionStopped contention:
                AddInterval(contention.ThreadId, contention.TimestampMs - contention.DurationMs, contention.TimestampMs);
                break;
        }
    }

    private void AddInterval(int threadId, double start, double end)
    {
        if (end - start < IntervalKeepMs)
        {
            return;
        }

        if (!_waitIntervals.TryGetValue(threadId, out var list))
        {
            _waitIntervals[threadId] = list = [];
        }

        if (list.Count >= MaxIntervalsPerThread)
        {
            list.RemoveAt(0);
        }

        list.Add((start, end));
    }

    private void OnSample(StackSample sample)
    {
        // A thread parked in a task wait, Monitor or lock is reported by blocking-wait / lock-contention, even when its
        // wait began before the session (so no WaitHandleWaitStart was seen): the stack itself says it waits.
        var stack = sample.Stack;
        var site = sample.Kind == SampleKind.External && stack.IsInSynchronizationWait ? null : Attribution.Of(stack, callSiteDepth, requests, sample.ThreadId, sample.TimestampMs);
        var activity = ActivityOf(sample);
        var key = site is null ? null : EpisodeKeyOf(stack, site, activity);
        _current.TryGetValue(sample.ThreadId, out var episode);
        if (episode is not null && (key is null || key.Value != episode.Key))
        {
            Close(episode);
            _current.Remove(sample.ThreadId);
            episode = null;
        }

        if (key is null)
        {
            return;
        }

        if (episode is null)
        {
            episode = new Episode(sample.ThreadId, key.Value, sample.TimestampMs, site!);
            _current[sample.ThreadId] = episode;
        }

        episode.LastMs = sample.LastTimestampMs;
        switch (activity)
        {
            case SampleActivity.Cpu:
                episode.ManagedSamples += sample.Count;
                break;
            case SampleActivity.BlockedInKnownCall:
                episode.ExternalSamples += sample.Count;
                break;
            default:
                episode.ExternalUnknownSamples += sample.Count;
                break;
        }

        episode.BlockingApi = CallSiteTotals.MoreSpecific(episode.BlockingApi, stack.BlockingApi);
        // Keep the deepest call site seen: it names the method actually spinning or sleeping.
        if (site!.Frames.Count > episode.Site.Frames.Count || (site.Endpoint is not null && episode.Site.Endpoint is null))
        {
            episode.Site = site;
        }
    }

    /// <summary>What a sample shows its thread doing.</summary>
    internal enum SampleActivity
    {
        Cpu,
        BlockedInKnownCall,
        BlockedInUnknownNativeCall,
    }

    // A known blocking API on the stack is blocked whatever the sample's kind (Thread.Sleep is sampled as managed at
    // times, measured); outside managed code with no known API is an unknown native call, never CPU, unless the
    // innermost frame is known native computing (hashing, compression).
    internal static SampleActivity ActivityOf(StackSample sample) =>
        sample.Stack.BlockingApi is not null ? SampleActivity.BlockedInKnownCall
        : sample.Kind == SampleKind.Managed || (sample.Stack.Frames.Count > 0 && IsNativeComputing(sample.Stack.Frames[0])) ? SampleActivity.Cpu
        : SampleActivity.BlockedInUnknownNativeCall;

    private static readonly string[] NativeComputing = ["Interop.Crypto", "System.Security.Cryptography.", "System.IO.Compression.", "Interop.ZLib", "Interop.Brotli"];

    private static bool IsNativeComputing(string frame) => NativeComputing.Any(prefix => frame.StartsWith(prefix, StringComparison.Ordinal));

    /// <summary>
    /// What keeps consecutive samples of a thread one episode: the outermost application frame; else the compiled
    /// delegate the user's code was inlined into; else, for blocked work only, the work item's outermost frame (framework
    /// code computing without any user frame is not a callback the user wrote: a busy Kestrel thread serving many short
    /// requests back to back would look like one long one). The request served is part of the key when known, so two
    /// requests in a row on one thread are two episodes.
    /// </summary>
    private static EpisodeKey? EpisodeKeyOf(CallStack stack, Attribution site, SampleActivity activity)
    {
        var what = stack.OutermostApplicationFrame ?? site.InlinedInto ?? (activity == SampleActivity.Cpu ? null : site.WorkItem);
        return what is null ? null : new EpisodeKey(what, site.Endpoint?.StartedMs);
    }

    /// <summary>What the work item is, and when the request it serves began (a value: compared on every sample).</summary>
    internal readonly record struct EpisodeKey(string What, double? RequestStartedMs);

    private void Close(Episode episode)
    {
        var ownMs = OwnMs(episode);
        if (ownMs >= thresholdMs && !MostlyWaiting(episode))
        {
            Ended.Add(episode.ThreadId, episode.Site, episode.BlockingApi ?? episode.UnknownNativeCall, ownMs, episode.Activity);
            episodeEnded?.Invoke(episode.StartMs, episode.LastMs);
        }

        // Waits that ended before this episode's end cannot overlap a later episode of the same thread.
        if (_waitIntervals.TryGetValue(episode.ThreadId, out var intervals))
        {
            intervals.RemoveAll(i => i.End <= episode.LastMs);
        }
    }

    /// <summary>How long the episode held its thread, time inside GC pauses left out: the GC's stall is reported once, by gc-pause.</summary>
    public double OwnMs(Episode episode) => Math.Max(0, episode.DurationMs - (gcPausedMs?.Invoke(episode.StartMs, episode.LastMs) ?? 0));

    /// <summary>Whether blocking waits or contended locks cover half the episode or more: then it is theirs to report.</summary>
    public bool MostlyWaiting(Episode e)
    {
        if (_openWaits.TryGetValue(e.ThreadId, out var openSince) && openSince <= e.StartMs + e.DurationMs / 2)
        {
            return true;
        }

        if (!_waitIntervals.TryGetValue(e.ThreadId, out var intervals))
        {
            return false;
        }

        double covered = 0;
        foreach (var (start, end) in intervals)
        {
            var overlap = Math.Min(end, e.LastMs) - Math.Max(start, e.StartMs);
            if (overlap > 0)
            {
                covered += overlap;
            }
        }

        return covered >= e.DurationMs / 2;
    }

    /// <summary>One work item on one pool thread, as far as the samples so far show it.</summary>
    internal sealed class Episode(int threadId, EpisodeKey key, double startMs, Attribution site)
    {
        public int ThreadId { get; } = threadId;
        public EpisodeKey Key { get; } = key;
        public double StartMs { get; } = startMs;
        public double LastMs { get; set; } = startMs;
        public Attribution Site { get; set; } = site;
        public string? BlockingApi { get; set; }
        public int ManagedSamples { get; set; }
        public int ExternalSamples { get; set; }

        /// <summary>Outside managed code without a known blocking call on the stack: a call into native code LoopDoctor cannot name.</summary>
        public int ExternalUnknownSamples { get; set; }

        public double DurationMs => LastMs - StartMs;

        public CallbackActivity Activity => ManagedSamples >= ExternalSamples + ExternalUnknownSamples
            ? CallbackActivity.Cpu
            : CallbackActivity.Blocked;

        /// <summary>The blocked time's API when no known one was seen: the samples were outside managed code, in a call not named.</summary>
        public string? UnknownNativeCall => Activity == CallbackActivity.Blocked && ExternalSamples == 0 ? CallStack.UnknownNativeCall : null;
    }
}
