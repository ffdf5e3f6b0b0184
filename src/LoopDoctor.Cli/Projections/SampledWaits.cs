using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Projections;

/// <summary>
/// Blocking waits read from stack samples instead of wait events: a thread whose consecutive samples show it parked
/// outside managed code in a known wait (<c>.Result</c>, <c>GetResult()</c>, <c>.Wait()</c>, <c>SemaphoreSlim.Wait</c>,
/// <c>Monitor.Wait</c>, <c>WaitHandle.WaitOne</c>, <c>Thread.Join</c>) at one call site is one wait, as long as those
/// samples span. The blocking-wait rule uses these when the session saw no wait events at all (.NET 8 emits none, and a
/// recording may not have enabled them), and otherwise for the waits that began before the session: a thread already
/// parked at its first sample, whose wait no WaitHandleWaitStart announced (<see cref="PreSession"/>). A lock's wait
/// (Monitor.Enter) is lock contention, not counted here.
/// </summary>
/// <param name="awaited">The task events, which name what a synchronous task wait blocks on.</param>
/// <param name="gcPausedMs">How long GC pauses stopped every thread between two times (ms): left out of a wait's
/// duration, as in <see cref="BlockingWaits"/>.</param>
internal sealed class SampledWaits(int callSiteDepth, IRequestLookup? requests = null, AwaitedTasks? awaited = null, Func<double, double, double>? gcPausedMs = null) : IProjection
{
    private readonly Dictionary<int, Run> _current = [];
    private readonly HashSet<int> _sampledThreads = [];
    private readonly HashSet<int> _announcedThreads = [];

    /// <summary>Ended waits by thread and call site.</summary>
    public CallSiteTotals Ended { get; } = new();

    /// <summary>Ended waits that were already in progress at the thread's first sample, with no wait event for them.</summary>
    public CallSiteTotals PreSession { get; } = new();

    /// <summary>Waits still in progress at the last sample, one per thread.</summary>
    public IEnumerable<Run> Current => _current.Values;

    /// <summary>The most threads seen parked in such waits at the same time.</summary>
    public int MaxBlockedAtOnce { get; private set; }

    public void Observe(Signal signal)
    {
        if (signal is StackSample sample)
        {
            OnSample(sample);
        }
        else if (signal is WaitStarted wait)
        {
            // A wait event on the thread before or during a run: the run's wait began in the session, the events count it.
            _announcedThreads.Add(wait.ThreadId);
            if (_current.TryGetValue(wait.ThreadId, out var announced))
            {
                announced.WaitEventSeen = true;
            }
        }
        else if (signal is PoolThreadSeen seen && _current.TryGetValue(seen.ThreadId, out var run) && seen.TimestampMs >= run.LastMs)
        {
            // The thread went back to the pool: its wait ended with the work item.
            Close(seen.ThreadId, run);
        }
    }

    private void OnSample(StackSample sample)
    {
        var api = IsWait(sample) ? sample.Stack.BlockingApi : null;
        var firstSample = _sampledThreads.Add(sample.ThreadId);
        var site = api is null ? null : Attribution.Of(sample.Stack, callSiteDepth, requests, sample.ThreadId, sample.TimestampMs);
        if (_current.TryGetValue(sample.ThreadId, out var run))
        {
            if (api == run.Api && site is not null && (ReferenceEquals(site, run.Site) || site.Key == run.Site.Key))
            {
                run.LastMs = sample.LastTimestampMs;
                return;
            }

            Close(sample.ThreadId, run);
        }

        if (api is null || site is null)
        {
            return;
        }

        _current[sample.ThreadId] = new Run(sample.ThreadId, site, api, sample.TimestampMs) { LastMs = sample.LastTimestampMs, AtFirstSample = firstSample, WaitEventSeen = _announcedThreads.Contains(sample.ThreadId) };
        MaxBlockedAtOnce = Math.Max(MaxBlockedAtOnce, _current.Count);
    }

    private void Close(int threadId, Run run)
    {
        _current.Remove(threadId);
        // A wait older than the session began before any TaskWaitBegin could be seen: its thread's latest one is another wait's.
        var site = run.PreSession ? run.Site : awaited?.WithAwaits(run.Site, run.Api, threadId, run.StartMs) ?? run.Site;
        var ownMs = OwnMs(run);
        Ended.Add(threadId, site, run.Api, ownMs);
        if (run.PreSession)
        {
            PreSession.Add(threadId, site, run.Api, ownMs);
        }
    }

    /// <summary>How long the run lasted, time inside GC pauses left out (the sampler takes no sample while the GC has the threads stopped).</summary>
    public double OwnMs(Run run) => Math.Max(0, run.DurationMs - (gcPausedMs?.Invoke(run.StartMs, run.LastMs) ?? 0));

    // Pool workers only (the gate and timer threads wait by design), parked outside managed code in a known wait.
    private static bool IsWait(StackSample sample) =>
        sample.Kind == SampleKind.External && sample.Stack.HasPoolDispatchFrame && sample.Stack.IsInSynchronizationWait && sample.Stack.BlockingApi != CallStack.LockApi;

    /// <summary>One thread's wait so far: from its first sample in the wait to its last.</summary>
    internal sealed class Run(int threadId, Attribution site, string api, double startMs)
    {
        public int ThreadId { get; } = threadId;
        public Attribution Site { get; } = site;
        public string Api { get; } = api;
        public double StartMs { get; } = startMs;
        public double LastMs { get; set; }
        public double DurationMs => Math.Max(0, LastMs - StartMs);

        /// <summary>The thread was parked in this wait at its first sample of the session.</summary>
        public bool AtFirstSample { get; init; }

        /// <summary>A WaitHandleWaitStart arrived for the thread while this run was open (then the events count it).</summary>
        public bool WaitEventSeen { get; set; }

        /// <summary>A wait older than the session: parked from the first sample on, and no wait event announced it.</summary>
        public bool PreSession => AtFirstSample && !WaitEventSeen;
    }
}
