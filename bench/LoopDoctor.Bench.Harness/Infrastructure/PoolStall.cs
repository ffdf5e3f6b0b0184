using System.Diagnostics;

namespace LoopDoctor.Bench.Infrastructure;

/// <summary>
/// Blocks every thread-pool worker for a known time: min = max = M workers, then M items that block until released.
/// An item queued after the M blockers (the agent's probe) cannot start before the release: the global queue is FIFO
/// and each blocker holds one of the M slots. Drive it from a dedicated thread, never from a pool thread.
/// Dispose releases, waits for the blockers and the queue to drain, then restores both limits.
/// </summary>
internal sealed class PoolStall : IDisposable
{
    private readonly int _minWorkers, _minIo, _maxWorkers, _maxIo;
    private readonly ManualResetEventSlim _release = new();
    private readonly ManualResetEventSlim _anyStarted = new();
    private readonly CountdownEvent _finished;

    private PoolStall(int workers)
    {
        Workers = workers;
        _finished = new CountdownEvent(workers);
        ThreadPool.GetMinThreads(out _minWorkers, out _minIo);
        ThreadPool.GetMaxThreads(out _maxWorkers, out _maxIo);
    }

    public int Workers { get; }

    /// <summary>Stopwatch timestamp once all M blockers are queued: from here on the pool is stalled.</summary>
    public long BlockedAt { get; private set; }

    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(BlockedAt);

    /// <summary>How long the stall really lasted (all blockers queued → release).</summary>
    public TimeSpan Length { get; private set; }

    public static PoolStall Begin()
    {
        if (Thread.CurrentThread.IsThreadPoolThread)
        {
            throw new InvalidOperationException("drive stalls from a dedicated thread");
        }

        var stall = new PoolStall(Environment.ProcessorCount + 2);
        if (!ThreadPool.SetMinThreads(stall.Workers, stall._minIo) || !ThreadPool.SetMaxThreads(stall.Workers, stall._maxIo))
        {
            throw new BenchException("could not set the pool's thread limits");
        }

        for (int i = 0; i < stall.Workers; i++)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static s =>
            {
                s._anyStarted.Set();
                s._release.Wait();
                s._finished.Signal();
            }, stall, preferLocal: false);
        }

        stall.BlockedAt = Stopwatch.GetTimestamp();
        if (!stall._anyStarted.Wait(TimeSpan.FromSeconds(10)))
        {
            stall.Dispose();
            throw new BenchException("no blocking item started within 10 s");
        }

        return stall;
    }

    public void Release()
    {
        if (!_release.IsSet)
        {
            Length = Elapsed;
            _release.Set();
        }
    }

    public void Dispose()
    {
        Release();
        _finished.Wait(TimeSpan.FromSeconds(15));
        using var drained = new ManualResetEventSlim();
        ThreadPool.UnsafeQueueUserWorkItem(static d => d.Set(), drained, preferLocal: false);
        drained.Wait(TimeSpan.FromSeconds(15));
        ThreadPool.SetMaxThreads(_maxWorkers, _maxIo);
        ThreadPool.SetMinThreads(_minWorkers, _minIo);
    }
}

internal static class Dedicated
{
    /// <summary>Runs <paramref name="body"/> on a new non-pool thread: the pool may be stalled while it runs.</summary>
    public static Task<T> Run<T>(Func<T> body)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        new Thread(() =>
        {
            try
            {
                done.SetResult(body());
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        }) { IsBackground = true, Name = "bench driver" }.Start();
        return done.Task;
    }
}
