namespace LoopDoctor.Agent.RuntimeSignals;

/// <summary>
/// Pairs the runtime's <c>WaitHandleWaitStart</c>/<c>WaitHandleWaitStop</c> events by OS thread id and keeps only the
/// waits that ran on thread-pool worker threads.
/// </summary>
/// <remarks>
/// Why this is needed: the events reach an <see cref="System.Diagnostics.Tracing.EventListener"/> on the runtime's
/// dispatch thread, so <see cref="Thread.IsThreadPoolThread"/> cannot be asked, and <c>WaitSource</c> cannot tell
/// either (a dedicated thread's <c>.Result</c> is a <c>MonitorWait</c> just like a pool thread's).
/// Measured on .NET 10: pool workers announce themselves with <c>ThreadPoolWorkerThreadStart</c> (50) when created and
/// <c>ThreadPoolWorkerThreadWait</c> (57) each time they run out of work, both written on the worker itself; the gate
/// thread (≈2 waits/s of 500 ms, <c>WaitSource</c> 0), the timer thread and app threads never write those, and the
/// worker's own idle wait (a LowLevelLifoSemaphore) writes no WaitHandle events. So the known-worker set is learned
/// from 50/57 and forgotten on <c>ThreadPoolWorkerThreadStop</c> (51).
/// A worker that was already busy when the listener started is not known yet: its completed waits are parked (at most
/// <see cref="MaxPendingWaitsPerThread"/> per thread, <see cref="MaxPendingThreads"/> threads, least recently active
/// evicted) and reported when the thread proves to be a worker by going idle. Waits of other threads stay parked until
/// evicted, so they are never counted.
/// Single-threaded by contract: the owning listener serialises calls. All maps are pre-sized and capped: no allocation
/// per event once warm (a parked-thread record is allocated only when the spare pool is empty).
/// </remarks>
internal sealed class PoolThreadWaitTracker
{
    internal const int MaxOpenWaits = 4096;
    internal const int MaxKnownWorkers = 4096;
    internal const int MaxPendingThreads = 256;
    internal const int MaxPendingWaitsPerThread = 16;

    private readonly Dictionary<long, OpenWait> _open = new(256);
    private readonly HashSet<long> _workers = new(256);
    private readonly Dictionary<long, PendingWaits> _pending = new(MaxPendingThreads);
    private readonly Stack<PendingWaits> _spare = new();
    private readonly Action<double, int> _onPoolWait;

    /// <param name="onPoolWait">Called once per completed wait on a pool worker: (duration in seconds, WaitSource).</param>
    public PoolThreadWaitTracker(Action<double, int> onPoolWait) => _onPoolWait = onPoolWait;

    /// <summary>Waits not tracked because a cap was hit (open-wait map full, parked waits beyond the per-thread cap).</summary>
    public long DroppedWaits { get; private set; }

    public int KnownWorkerCount => _workers.Count;

    public int OpenWaitCount => _open.Count;

    public int PendingThreadCount => _pending.Count;

    /// <summary>A ThreadPoolWorkerThreadStart/Wait event came from <paramref name="osThreadId"/>.</summary>
    public void WorkerSeen(long osThreadId)
    {
        if (_workers.Count < MaxKnownWorkers)
        {
            _workers.Add(osThreadId);
        }

        FlushPending(osThreadId);
    }

    /// <summary>A ThreadPoolWorkerThreadStop event: the worker exits and its id may be reused by any thread.</summary>
    public void WorkerStopped(long osThreadId)
    {
        FlushPending(osThreadId);
        _workers.Remove(osThreadId);
        _open.Remove(osThreadId);
    }

    public void WaitStarted(long osThreadId, long timestampTicks, int waitSource)
    {
        if (_open.Count >= MaxOpenWaits && !_open.ContainsKey(osThreadId))
        {
            DroppedWaits++;
            return;
        }

        _open[osThreadId] = new OpenWait(timestampTicks, waitSource);
    }

    public void WaitStopped(long osThreadId, long timestampTicks)
    {
        if (!_open.Remove(osThreadId, out var wait))
        {
            return; // started before the listener, or dropped
        }

        var seconds = Math.Max(0, timestampTicks - wait.StartTicks) / (double)TimeSpan.TicksPerSecond;
        if (_workers.Contains(osThreadId))
        {
            _onPoolWait(seconds, wait.WaitSource);
        }
        else
        {
            Park(osThreadId, seconds, wait.WaitSource, timestampTicks);
        }
    }

    private void Park(long osThreadId, double seconds, int waitSource, long nowTicks)
    {
        if (!_pending.TryGetValue(osThreadId, out var pending))
        {
            if (_pending.Count >= MaxPendingThreads)
            {
                EvictLeastRecentlyActive();
            }

            pending = _spare.Count > 0 ? _spare.Pop() : new PendingWaits();
            _pending.Add(osThreadId, pending);
        }

        pending.LastActivityTicks = nowTicks;
        if (pending.Count == MaxPendingWaitsPerThread)
        {
            DroppedWaits++;
            return;
        }

        pending.Seconds[pending.Count] = seconds;
        pending.Sources[pending.Count] = waitSource;
        pending.Count++;
    }

    private void FlushPending(long osThreadId)
    {
        if (!_pending.Remove(osThreadId, out var pending))
        {
            return;
        }

        for (var i = 0; i < pending.Count; i++)
        {
            _onPoolWait(pending.Seconds[i], pending.Sources[i]);
        }

        Recycle(pending);
    }

    private void EvictLeastRecentlyActive()
    {
        var victim = 0L;
        var oldest = long.MaxValue;
        foreach (var (threadId, pending) in _pending)
        {
            if (pending.LastActivityTicks < oldest)
            {
                oldest = pending.LastActivityTicks;
                victim = threadId;
            }
        }

        if (_pending.Remove(victim, out var evicted))
        {
            Recycle(evicted);
        }
    }

    private void Recycle(PendingWaits pending)
    {
        pending.Count = 0;
        if (_spare.Count < 16)
        {
            _spare.Push(pending);
        }
    }

    private readonly record struct OpenWait(long StartTicks, int WaitSource);

    private sealed class PendingWaits
    {
        public readonly double[] Seconds = new double[MaxPendingWaitsPerThread];
        public readonly int[] Sources = new int[MaxPendingWaitsPerThread];
        public int Count;
        public long LastActivityTicks;
    }
}
