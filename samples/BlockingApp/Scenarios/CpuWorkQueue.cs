using System.Collections.Concurrent;

namespace BlockingApp.Scenarios;

/// <summary>
/// Dedicated threads for CPU-bound work (the .NET form of <c>run_in_executor(ProcessPoolExecutor)</c>), with a
/// bounded queue. Dedicated threads, not <c>Task.Run</c>: offloading to the thread pool would only move the long
/// callback to another pool thread. <see cref="BlockingCollection{T}"/> waits with kernel events, so the workers
/// keep running even when the pool itself is starved.
/// </summary>
public sealed class CpuWorkQueue : IDisposable
{
    public const int Capacity = 16;

    private readonly BlockingCollection<WorkItem> _queue = new(Capacity);
    private readonly Thread[] _workers;
    private volatile bool _stopping;

    public CpuWorkQueue()
    {
        // Leave a core for the thread pool (Kestrel, timers, everything else).
        _workers = new Thread[Math.Max(1, Environment.ProcessorCount - 1)];
        for (var i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new Thread(RunWorker) { IsBackground = true, Name = $"BlockingApp CPU worker {i}" };
            _workers[i].Start();
        }
    }

    /// <summary>Queues <paramref name="work"/>; the task yields null at once when the queue is full.</summary>
    public Task<long?> TryRun(Func<long> work, CancellationToken cancellationToken)
    {
        var item = new WorkItem(work, cancellationToken);
        try
        {
            if (!_queue.TryAdd(item))
            {
                return Task.FromResult<long?>(null);
            }
        }
        catch (InvalidOperationException)
        {
            return Task.FromResult<long?>(null); // shutting down
        }

        return item.Completion.Task;
    }

    private void RunWorker()
    {
        foreach (var item in _queue.GetConsumingEnumerable())
        {
            if (_stopping || item.CancellationToken.IsCancellationRequested)
            {
                item.Completion.TrySetCanceled(_stopping ? CancellationToken.None : item.CancellationToken);
                continue;
            }

            try
            {
                item.Completion.TrySetResult(item.Work());
            }
            catch (Exception e)
            {
                item.Completion.TrySetException(e);
            }
        }
    }

    public void Dispose()
    {
        // Queued items are cancelled, the running one finishes (at most WorkDuration). The collection itself is not
        // disposed: a worker still inside Take must not meet an ObjectDisposedException; it is garbage once they exit.
        _stopping = true;
        _queue.CompleteAdding();
        foreach (var worker in _workers)
        {
            worker.Join(TimeSpan.FromSeconds(1));
        }
    }

    private sealed class WorkItem(Func<long> work, CancellationToken cancellationToken)
    {
        public Func<long> Work { get; } = work;
        public CancellationToken CancellationToken { get; } = cancellationToken;

        // Asynchronous continuations: the awaiting request resumes on the pool, never on the worker thread.
        public TaskCompletionSource<long?> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
