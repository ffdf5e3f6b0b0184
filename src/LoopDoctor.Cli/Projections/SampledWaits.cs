using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Projections;

/// <summary>
/// Blocking waits read from stack samples instead of wait events: a thread whose consecutive samples show it parked
/// outside managed code in a known wait (<c>.Result</c>, <c>GetResult()</c>, <c>.Wait()</c>, <c>SemaphoreSlim.Wait</c>,
/// <c>Monitor.Wait</c>, <c>WaitHandle.WaitOne</c>, <c>Thread.Join</c>) at one call site is one wait, as long as those
/// samples span. The blocking-wait rule uses these only when the session saw no wait events at all: .NET 8 emits none,
/// and a recording may not have enabled them. A lock's wait (Monitor.Enter) is lock contention, not counted here.
/// </summary>
internal sealed class SampledWaits(int callSiteDepth) : IProjection
{
    private readonly Dictionary<int, Run> _current = [];

    /// <summary>Ended waits by thread and call site.</summary>
    public CallSiteTotals Ended { get; } = new();

    /// <summary>Waits still in progress at the last sample, one per thread.</summary>
    public IEnumerable<Run> Current => _current.Values;

    /// <summary>The most threads seen parked in such waits at the same time.</summary>
    public int MaxBlockedAtOnce { get; private set; }

    public void Observe(Signal signal)
    {
        switch (signal)
        {
            case StackSample sample:
                OnSample(sample);
                break;
            case PoolThreadSeen seen when _current.TryGetValue(seen.ThreadId, out var ended) && seen.TimestampMs >= ended.LastMs:
                // The thread went back to the pool: its wait ended with the work item.
                Close(seen.ThreadId, ended);
                break;
        }
    }

    private void OnSample(StackSample sample)
    {
        var api = IsWait(sample) ? sample.Stack.BlockingApi : null;
        var frames = api is null ? null : sample.Stack.CallSite(callSiteDepth);
        if (_current.TryGetValue(sample.ThreadId, out var run))
        {
            if (api == run.Api && frames is not null && frames.SequenceEqual(run.Frames))
            {
                run.LastMs = sample.LastTimestampMs;
                return;
            }

            Close(sample.ThreadId, run);
        }

        if (api is null || frames is null)
        {
            return;
        }

        _current[sample.ThreadId] = new Run(sample.ThreadId, frames, api, sample.TimestampMs) { LastMs = sample.LastTimestampMs };
        MaxBlockedAtOnce = Math.Max(MaxBlockedAtOnce, _current.Count);
    }

    private void Close(int threadId, Run run)
    {
        _current.Remove(threadId);
        Ended.Add(threadId, run.Frames, run.Api, run.DurationMs);
    }

    // Pool workers only (the gate and timer threads wait by design), parked outside managed code in a known wait.
    private static bool IsWait(StackSample sample) =>
        sample.Kind == SampleKind.External && sample.Stack.HasPoolDispatchFrame && sample.Stack.IsInSynchronizationWait && sample.Stack.BlockingApi != CallStack.LockApi;

    /// <summary>One thread's wait so far: from its first sample in the wait to its last.</summary>
    internal sealed class Run(int threadId, IReadOnlyList<string> frames, string api, double startMs)
    {
        public int ThreadId { get; } = threadId;
        public IReadOnlyList<string> Frames { get; } = frames;
        public string Api { get; } = api;
        public double StartMs { get; } = startMs;
        public double LastMs { get; set; }
        public double DurationMs => Math.Max(0, LastMs - StartMs);
    }
}
