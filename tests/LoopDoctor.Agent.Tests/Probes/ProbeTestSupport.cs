using System.Collections.Concurrent;
using System.Diagnostics;

namespace LoopDoctor.Agent.Tests.Probes;

internal static class Poll
{
    /// <summary>Polls <paramref name="condition"/> until true or <paramref name="timeout"/>; returns whether it became true.</summary>
    public static bool Until(Func<bool> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout)
            {
                return false;
            }

            Thread.Sleep(2);
        }

        return true;
    }
}

internal static class Dedicated
{
    /// <summary>
    /// Runs <paramref name="body"/> on a new non-pool thread and completes when it ends (its failure rethrown).
    /// Asynchronous on purpose: xunit may run the test on a pool thread, which must not be held while the pool is stalled.
    /// </summary>
    public static async Task RunAsync(Action body, TimeSpan? timeout = null)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                body();
                done.SetResult();
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        }) { IsBackground = true, Name = "test driver" };
        thread.Start();
        await done.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(60));
    }
}

/// <summary>
/// Deterministically stalls the thread pool: sets min = max = M workers, then queues M items that block until
/// <see cref="Release"/>. Once all M are queued, any item queued afterwards (a probe, a timer callback) cannot start
/// before the release, whatever else holds pool threads: the global queue is FIFO, so all M blockers are dequeued
/// first, and each one holds one of the M slots until released. (The test host itself keeps a couple of pool threads
/// in blocking waits, so M is the processor count plus headroom; at least one blocker must start, proving the pool
/// is live and that releasing frees a worker.) Dispose releases, waits for the blockers and restores both limits
/// (max first, so min ≤ max holds after every call).
/// </summary>
internal sealed class ThreadPoolStall : IDisposable
{
    private readonly int _minWorkers, _minIo, _maxWorkers, _maxIo;
    private readonly ManualResetEventSlim _release = new();
    private readonly CountdownEvent _finished;
    private int _started;
    private readonly ManualResetEventSlim _anyStarted = new();

    private ThreadPoolStall(int workers)
    {
        Workers = workers;
        _finished = new CountdownEvent(workers);
        ThreadPool.GetMinThreads(out _minWorkers, out _minIo);
        ThreadPool.GetMaxThreads(out _maxWorkers, out _maxIo);
    }

    /// <summary>M: the pool's cap during the stall, and the number of blocking items.</summary>
    public int Workers { get; }

    /// <summary>Blocking items that started (the rest wait in the queue behind them).</summary>
    public int Started => Volatile.Read(ref _started);

    /// <summary>Stopwatch timestamp after the last blocker was queued: from here on, newly queued items wait.</summary>
    public long AllBlockedAt { get; private set; }

    public static ThreadPoolStall Begin()
    {
        Assert.False(Thread.CurrentThread.IsThreadPoolThread, "drive stalls from a dedicated thread");
        var stall = new ThreadPoolStall(Environment.ProcessorCount + 4);
        try
        {
            // Lowering: min first; then max (SetMaxThreads refuses a max below the processor count or below min).
            Assert.True(ThreadPool.SetMinThreads(stall.Workers, stall._minIo), "SetMinThreads");
            Assert.True(ThreadPool.SetMaxThreads(stall.Workers, stall._maxIo), "SetMaxThreads");
            for (int i = 0; i < stall.Workers; i++)
            {
                ThreadPool.UnsafeQueueUserWorkItem(static s =>
                {
                    Interlocked.Increment(ref s._started);
                    s._anyStarted.Set();
                    s._release.Wait();
                    s._finished.Signal();
                }, stall, preferLocal: false);
            }

            stall.AllBlockedAt = Stopwatch.GetTimestamp();
            Assert.True(stall._anyStarted.Wait(TimeSpan.FromSeconds(10)),
                $"none of {stall.Workers} blocking items started (pool threads {ThreadPool.ThreadCount}, pending {ThreadPool.PendingWorkItemCount})");
            return stall;
        }
        catch
        {
            stall.Dispose();
            throw;
        }
    }

    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(AllBlockedAt);

    /// <summary>How long the stall really lasted (queueing of the last blocker → release), once released.</summary>
    public TimeSpan Length { get; private set; }

    public void Release()
    {
        if (!_release.IsSet)
        {
            _release.Set();
            Length = Elapsed;
        }
    }

    public void Dispose()
    {
        Release();
        // Let everything queued during the stall run before restoring the limits: restoring lowers min back, and a
        // pool whose goal then drops below the threads the test host keeps blocked would stall again by itself
        // (until starvation injection, ~0.5 s) and distort the measurement. FIFO: once the marker ran, all had.
        bool finished = _finished.Wait(TimeSpan.FromSeconds(15));
        var drained = new ManualResetEventSlim();
        ThreadPool.UnsafeQueueUserWorkItem(static d => d.Set(), drained, preferLocal: false);
        bool drainedInTime = drained.Wait(TimeSpan.FromSeconds(15));
        // Raising: max first, then min.
        ThreadPool.SetMaxThreads(_maxWorkers, _maxIo);
        ThreadPool.SetMinThreads(_minWorkers, _minIo);
        Assert.True(finished, "blocking items did not finish after release");
        Assert.True(drainedInTime, "the pool did not drain after release");
    }
}

/// <summary>Runs posted callbacks only when the test says so.</summary>
internal sealed class ManualSynchronizationContext : SynchronizationContext
{
    private readonly ConcurrentQueue<(SendOrPostCallback Callback, object? State)> _queue = new();

    public int Pending => _queue.Count;

    public override void Post(SendOrPostCallback d, object? state) => _queue.Enqueue((d, state));

    public void RunAll()
    {
        while (_queue.TryDequeue(out var item))
        {
            item.Callback(item.State);
        }
    }
}

/// <summary>Runs posted callbacks inline (no allocation: isolates the probe's own per-tick cost).</summary>
internal sealed class InlineSynchronizationContext : SynchronizationContext
{
    public override void Post(SendOrPostCallback d, object? state) => d(state);
}

internal sealed class ThrowingSynchronizationContext : SynchronizationContext
{
    public override void Post(SendOrPostCallback d, object? state) => throw new InvalidOperationException("context is shut down");
}

/// <summary>A UI-thread-like loop: one dedicated thread running posted callbacks in order.</summary>
internal sealed class SingleThreadSynchronizationContext : SynchronizationContext, IDisposable
{
    private readonly BlockingCollection<(SendOrPostCallback Callback, object? State)> _queue = new();
    private readonly Thread _thread;

    public SingleThreadSynchronizationContext()
    {
        _thread = new Thread(() =>
        {
            SetSynchronizationContext(this);
            foreach (var (callback, state) in _queue.GetConsumingEnumerable())
            {
                callback(state);
            }
        }) { IsBackground = true, Name = "test UI loop" };
        _thread.Start();
    }

    public override void Post(SendOrPostCallback d, object? state) => _queue.Add((d, state));

    public void Dispose()
    {
        _queue.CompleteAdding();
        _thread.Join(TimeSpan.FromSeconds(10));
    }
}

/// <summary>An actor-like scheduler: one dedicated thread running queued tasks in order.</summary>
internal sealed class SingleThreadTaskScheduler : TaskScheduler, IDisposable
{
    private readonly BlockingCollection<Task> _queue = new();
    private readonly Thread _thread;

    public SingleThreadTaskScheduler()
    {
        _thread = new Thread(() =>
        {
            foreach (var task in _queue.GetConsumingEnumerable())
            {
                TryExecuteTask(task);
            }
        }) { IsBackground = true, Name = "test actor" };
        _thread.Start();
    }

    protected override void QueueTask(Task task) => _queue.Add(task);

    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => false;

    protected override IEnumerable<Task> GetScheduledTasks() => _queue.ToArray();

    public void Dispose()
    {
        _queue.CompleteAdding();
        _thread.Join(TimeSpan.FromSeconds(10));
    }
}
