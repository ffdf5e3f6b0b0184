using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Projections;

/// <summary>
/// Work items that held a pool thread longer than the threshold, from the sample profiler: consecutive samples of one
/// thread whose outermost application frame (the work item's entry point above the pool's dispatch loop) stays the
/// same form an episode. Managed samples mean CPU; External samples mean blocked outside managed code (Thread.Sleep,
/// synchronous I/O). The blocking waits and contended locks seen on each thread are kept too, so an episode that was
/// mostly one of those is told apart (blocking-wait and lock-contention report it).
/// </summary>
/// <param name="episodeEnded">Told each counted episode's start and end (ms), for the timeline.</param>
/// <param name="gcPausedMs">How long GC pauses stopped every thread between two times (ms): a work item is not long
/// because the GC suspended it.</param>
internal sealed class LongCallbacks(int callSiteDepth, double thresholdMs, Action<double, double>? episodeEnded = null, Func<double, double, double>? gcPausedMs = null) : IProjection
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
        var key = sample.Kind == SampleKind.External && sample.Stack.IsInSynchronizationWait ? null : sample.Stack.OutermostApplicationFrame;
        _current.TryGetValue(sample.ThreadId, out var episode);
        if (episode is not null && (key is null || key != episode.Key))
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
            episode = new Episode(sample.ThreadId, key, sample.TimestampMs, sample.Stack.CallSite(callSiteDepth));
            _current[sample.ThreadId] = episode;
        }

        episode.LastMs = sample.LastTimestampMs;
        // Outside managed code is "blocked" only in a known blocking call (Thread.Sleep, synchronous I/O); native
        // computing (hashing in OpenSSL, compression) is CPU work like managed code.
        if (sample.Kind == SampleKind.Managed)
        {
            episode.ManagedSamples += sample.Count;
        }
        else if (sample.Stack.BlockingApi is not null || (sample.Stack.Frames.Count > 0 && CallStack.IsApplicationFrame(sample.Stack.Frames[0])))
        {
            // A known blocking call, or user code calling straight into unresolved native code: the ReadyToRun frame
            // of Thread.Sleep or a synchronous read does not always resolve live (measured), native computing
            // (hashing, compression) normally shows its resolved framework wrapper innermost instead.
            episode.ExternalSamples += sample.Count;
        }
        else
        {
            episode.ExternalUnknownSamples += sample.Count;
        }

        episode.BlockingApi = CallSiteTotals.MoreSpecific(episode.BlockingApi, sample.Stack.BlockingApi);
        // Keep the deepest call site seen: it names the method actually spinning or sleeping.
        if (sample.Stack.ApplicationFrames.Count > episode.Frames.Count)
        {
            episode.Frames = sample.Stack.CallSite(callSiteDepth);
        }
    }

    private void Close(Episode episode)
    {
        if (episode.DurationMs - (gcPausedMs?.Invoke(episode.StartMs, episode.LastMs) ?? 0) >= thresholdMs && !MostlyWaiting(episode))
        {
            Ended.Add(episode.ThreadId, episode.Frames, episode.BlockingApi, episode.DurationMs, episode.Activity);
            episodeEnded?.Invoke(episode.StartMs, episode.LastMs);
        }

        // Waits that ended before this episode's end cannot overlap a later episode of the same thread.
        if (_waitIntervals.TryGetValue(episode.ThreadId, out var intervals))
        {
            intervals.RemoveAll(i => i.End <= episode.LastMs);
        }
    }

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
    internal sealed class Episode(int threadId, string key, double startMs, IReadOnlyList<string> frames)
    {
        public int ThreadId { get; } = threadId;
        public string Key { get; } = key;
        public double StartMs { get; } = startMs;
        public double LastMs { get; set; } = startMs;
        public IReadOnlyList<string> Frames { get; set; } = frames;
        public string? BlockingApi { get; set; }
        public int ManagedSamples { get; set; }
        public int ExternalSamples { get; set; }

        /// <summary>Outside managed code without a known blocking call on the stack: native computing, or a blocking call whose frame did not resolve.</summary>
        public int ExternalUnknownSamples { get; set; }

        public double DurationMs => LastMs - StartMs;

        // Unknown native samples side with what the rest of the work item shows: blocked if a blocking call was seen.
        public CallbackActivity Activity => ExternalSamples == 0 || ManagedSamples >= ExternalSamples + ExternalUnknownSamples
            ? CallbackActivity.Cpu
            : CallbackActivity.Blocked;
    }
}
