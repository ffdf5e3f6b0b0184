using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Projections;

/// <summary>
/// Which threads are thread-pool workers: a thread that dequeued work, started or parked as a worker, or showed the
/// pool's dispatch loop on a stack. Rules filter by it when building findings (not when observing), so a worker
/// recognized late still counts for what it did earlier. Non-workers excluded this way include the pool's gate thread
/// (~2 waits/s of ~500 ms), the timer thread and the app's main thread.
/// </summary>
internal sealed class PoolThreads : IProjection
{
    private readonly HashSet<int> _workers = [];

    public void Observe(Signal signal)
    {
        switch (signal)
        {
            case PoolThreadSeen seen:
                _workers.Add(seen.ThreadId);
                break;
            case StackSample { Stack.HasPoolDispatchFrame: true } sample:
                _workers.Add(sample.ThreadId);
                break;
            case WaitStarted { Stack.HasPoolDispatchFrame: true } wait:
                _workers.Add(wait.ThreadId);
                break;
        }
    }

    public bool IsWorker(int threadId) => _workers.Contains(threadId);
}
