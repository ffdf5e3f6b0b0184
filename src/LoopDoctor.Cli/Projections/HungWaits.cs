using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Projections;

/// <summary>A thread that has stayed in one wait: since when (at least), where, and whether events or samples showed it.</summary>
internal sealed record ParkedThread(int ThreadId, double SinceMs, double LastSeenMs, CallStack Stack, bool FromEvents)
{
    /// <summary>How long it has been parked at <paramref name="nowMs"/>: an open wait event until now, samples only as far as they reach.</summary>
    public double ParkedMs(double nowMs) => (FromEvents ? nowMs : LastSeenMs) - SinceMs;
}

/// <summary>
/// Threads parked in one synchronization wait (a task wait, <c>ManualResetEventSlim.Wait</c>, <c>SemaphoreSlim.Wait</c>,
/// Monitor, a lock) without end: from WaitHandleWaitStart with no stop yet, or, for a wait that began before the session,
/// from stack samples that show the same waiting stack throughout.
/// </summary>
internal sealed class HungWaits : IProjection
{
    private readonly Dictionary<int, ParkedThread> _byEvents = [];
    private readonly Dictionary<int, ParkedThread> _bySamples = [];

    public void Observe(Signal signal)
    {
        switch (signal)
        {
            case WaitStarted wait:
                _byEvents[wait.ThreadId] = new ParkedThread(wait.ThreadId, wait.TimestampMs, wait.TimestampMs, wait.Stack, true);
                break;
            case WaitStopped stopped:
                _byEvents.Remove(stopped.ThreadId);
                _bySamples.Remove(stopped.ThreadId);
                break;
            case ContentionStopped stopped:
                _bySamples.Remove(stopped.ThreadId);
                break;
            case StackSample sample:
                var parked = sample.Kind == SampleKind.External && (sample.Stack.IsInSynchronizationWait || sample.Stack.BlockingApi == CallStack.LockApi);
                if (!parked)
                {
                    _bySamples.Remove(sample.ThreadId);
                }
                else if (_bySamples.TryGetValue(sample.ThreadId, out var run) && SameStack(run.Stack, sample.Stack))
                {
                    _bySamples[sample.ThreadId] = run with { LastSeenMs = sample.LastTimestampMs };
                }
                else
                {
                    _bySamples[sample.ThreadId] = new ParkedThread(sample.ThreadId, sample.TimestampMs, sample.LastTimestampMs, sample.Stack, false);
                }

                break;
        }
    }

    /// <summary>Threads parked at least <paramref name="minimumMs"/> at <paramref name="nowMs"/>; events win over samples for a thread.</summary>
    public IEnumerable<ParkedThread> ParkedFor(double nowMs, double minimumMs) =>
        _byEvents.Values.Concat(_bySamples.Values.Where(r => !_byEvents.ContainsKey(r.ThreadId))).Where(p => p.ParkedMs(nowMs) >= minimumMs);

    /// <summary>
    /// Whether a parked stack is the application's wait: it has an application frame other than Main. The main thread of
    /// a host waits for shutdown by design (its only application frame is Main, or async Main's stub), and the runtime's
    /// own threads park for minutes.
    /// </summary>
    /// A thread joining another waits for it to finish its work, by design too.
    public static bool InApplicationCode(CallStack stack) =>
        stack.BlockingApi != "Thread.Join"
        && stack.ApplicationFrames.Any(f => !(f.EndsWith(".Main", StringComparison.Ordinal) || f.EndsWith(".<Main>", StringComparison.Ordinal) || f.EndsWith(".<Main>$", StringComparison.Ordinal)));

    /// <summary>Whether a parked stack waits to enter a lock (Monitor, or System.Threading.Lock, whose slow path waits on an event).</summary>
    public static bool IsLockWait(CallStack stack) =>
        stack.BlockingApi == CallStack.LockApi
        || stack.Frames.Any(f => f.StartsWith("System.Threading.Lock.Enter", StringComparison.Ordinal) || f.StartsWith("System.Threading.Lock.TryEnterSlow", StringComparison.Ordinal));

    private static bool SameStack(CallStack a, CallStack b) => ReferenceEquals(a, b) || a.Frames.SequenceEqual(b.Frames);
}
