using LoopDoctor.Agent.RuntimeSignals;

namespace LoopDoctor.Agent.Tests.RuntimeSignals;

/// <summary>Pure logic of pairing waits by thread and keeping only pool workers' (the real events are in RuntimeEventListenerTests).</summary>
public sealed class PoolThreadWaitTrackerTests
{
    private readonly List<(double Seconds, int Source)> _reported = [];
    private readonly PoolThreadWaitTracker _tracker;

    public PoolThreadWaitTrackerTests() => _tracker = new PoolThreadWaitTracker((s, source) => _reported.Add((s, source)));

    private static long Ms(int ms) => TimeSpan.FromMilliseconds(ms).Ticks;

    [Fact]
    public void Known_worker_wait_is_reported_with_duration_and_source()
    {
        _tracker.WorkerSeen(10);
        _tracker.WaitStarted(10, Ms(100), 1);
        _tracker.WaitStopped(10, Ms(350));
        Assert.Equal([(0.25, 1)], _reported);
        Assert.Equal(0, _tracker.OpenWaitCount);
    }

    [Fact]
    public void Unknown_thread_wait_is_parked_until_the_thread_shows_it_is_a_worker()
    {
        _tracker.WaitStarted(11, Ms(0), 1);
        _tracker.WaitStopped(11, Ms(40));
        Assert.Empty(_reported);
        _tracker.WorkerSeen(11); // the worker ran out of work: ThreadPoolWorkerThreadWait
        Assert.Equal([(0.04, 1)], _reported);
        Assert.Equal(0, _tracker.PendingThreadCount);
    }

    [Fact]
    public void Non_worker_waits_are_never_reported_and_stay_bounded()
    {
        for (var i = 0; i < 1000; i++)
        {
            _tracker.WaitStarted(12, Ms(i * 10), 0);
            _tracker.WaitStopped(12, Ms(i * 10 + 5));
        }

        for (var thread = 0; thread < 1000; thread++)
        {
            _tracker.WaitStarted(1000 + thread, Ms(thread), 0);
            _tracker.WaitStopped(1000 + thread, Ms(thread + 1));
        }

        Assert.Empty(_reported);
        Assert.Equal(PoolThreadWaitTracker.MaxPendingThreads, _tracker.PendingThreadCount);
        Assert.True(_tracker.DroppedWaits >= 1000 - PoolThreadWaitTracker.MaxPendingWaitsPerThread);
    }

    [Fact]
    public void Open_waits_are_capped()
    {
        for (var thread = 0; thread < PoolThreadWaitTracker.MaxOpenWaits + 10; thread++)
        {
            _tracker.WaitStarted(thread, 0, 1);
        }

        Assert.Equal(PoolThreadWaitTracker.MaxOpenWaits, _tracker.OpenWaitCount);
        Assert.Equal(10, _tracker.DroppedWaits);
    }

    [Fact]
    public void Stopped_worker_is_forgotten_so_a_reused_thread_id_is_not_a_worker()
    {
        _tracker.WorkerSeen(13);
        _tracker.WorkerStopped(13);
        _tracker.WaitStarted(13, 0, 1);
        _tracker.WaitStopped(13, Ms(5));
        Assert.Empty(_reported);
        Assert.Equal(0, _tracker.KnownWorkerCount);
    }

    [Fact]
    public void Stop_without_start_is_ignored()
    {
        _tracker.WorkerSeen(14);
        _tracker.WaitStopped(14, Ms(5));
        Assert.Empty(_reported);
    }
}
