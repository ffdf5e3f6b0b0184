using LoopDoctor.Agent.Metrics;
using LoopDoctor.Agent.RuntimeSignals;

namespace LoopDoctor.Agent.Tests.RuntimeSignals;

/// <summary>Real runtime events from real contention, real sync-over-async and a really starved pool, read in process.</summary>
// Process-wide: reads every runtime event in the process and starves the pool, so never beside other tests.
[Collection(AgentCollection.Name)]
public sealed class RuntimeEventListenerTests
{
    private const string BlockingWaits = "loopdoctor.thread_pool.blocking_waits";
    private const string BlockingWaitDuration = "loopdoctor.thread_pool.blocking_wait.duration";
    private const string LockContentions = "loopdoctor.lock.contentions";
    private const string LockContentionDuration = "loopdoctor.lock.contention.duration";
    private const string ThreadInjections = "loopdoctor.thread_pool.thread.injections";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private static LoopDoctorOptions Only(bool injections = false, bool waits = false, bool contention = false) => new()
    {
        CaptureThreadInjections = injections,
        CaptureBlockingWaits = waits,
        CaptureLockContention = contention,
    };

    [Fact]
    public void Contended_lock_is_counted_with_its_duration()
    {
        using var instruments = new LoopDoctorInstruments();
        using var recorder = new MeasurementRecorder(instruments.Meter);
        using var listener = new RuntimeEventListener(Only(contention: true), instruments);

        var gate = new object();
        using var held = new ManualResetEventSlim();
        var holder = new Thread(() =>
        {
            lock (gate)
            {
                held.Set();
                Thread.Sleep(300); // the behaviour under test: a lock held for 300 ms
            }
        }) { IsBackground = true };
        holder.Start();
        held.Wait();
        lock (gate)
        {
        }

        holder.Join();

        var seen = recorder.WaitFor(m => m.Any(x => x.Instrument == LockContentionDuration && x.Value >= 0.15),
            Timeout, "a contention of about 300 ms");
        Assert.Contains(seen, m => m.Instrument == LockContentions && m.Value == 1);
        Assert.All(seen.Where(m => m.Instrument == LockContentionDuration), m => Assert.InRange(m.Value, 0, 10));
        Assert.True(listener.LockContentions >= 1);
    }

    [Fact]
    public void Sync_over_async_on_a_pool_thread_is_a_blocking_wait_and_a_dedicated_threads_is_not()
    {
        using var instruments = new LoopDoctorInstruments();
        using var recorder = new MeasurementRecorder(instruments.Meter);
        using var listener = new RuntimeEventListener(Only(waits: true), instruments);

        // First a dedicated (non-pool) thread blocks on .Result for ~700 ms: must NOT count.
        BlockOnResult(TimeSpan.FromMilliseconds(700), onPoolThread: false);

        // Then a pool thread blocks on .Result for ~300 ms: must count. Runtime events arrive in order, so once
        // this one is seen the dedicated thread's (earlier) wait has been processed too.
        BlockOnResult(TimeSpan.FromMilliseconds(300), onPoolThread: true);

        static bool IsPoolWait(Measurement m)
            => m.Instrument == BlockingWaitDuration && m.Value is >= 0.2 and < 0.6 && m.Tag("wait.source") == "monitor_wait";
        var seen = recorder.WaitFor(m => m.Any(IsPoolWait), Timeout, "the pool thread's ~300 ms .Result wait (monitor_wait)");

        Assert.Contains(seen, m => m.Instrument == BlockingWaits && m.Tag("wait.source") == "monitor_wait");
        Assert.DoesNotContain(seen, m => m.Instrument == BlockingWaitDuration && m.Value is >= 0.6 and < 5);
        Assert.True(listener.BlockingWaits >= 1);
    }

    [Fact]
    public void A_signal_switched_off_is_not_counted()
    {
        using var instruments = new LoopDoctorInstruments();
        using var recorder = new MeasurementRecorder(instruments.Meter);
        using var listener = new RuntimeEventListener(new LoopDoctorOptions { CaptureLockContention = false }, instruments);

        // A real contended lock on dedicated threads, then a pool wait as a marker that the events after it arrived.
        var gate = new object();
        using var held = new ManualResetEventSlim();
        var holder = new Thread(() =>
        {
            lock (gate)
            {
                held.Set();
                Thread.Sleep(200);
            }
        }) { IsBackground = true };
        holder.Start();
        held.Wait();
        lock (gate)
        {
        }

        holder.Join();
        BlockOnResult(TimeSpan.FromMilliseconds(300), onPoolThread: true);

        recorder.WaitFor(m => m.Any(x => x.Instrument == BlockingWaitDuration && x.Value >= 0.2 && x.Tag("wait.source") == "monitor_wait"),
            Timeout, "the marker pool wait");
        Assert.Empty(recorder.Of(LockContentions));
        Assert.Empty(recorder.Of(LockContentionDuration));
        Assert.Equal(0, listener.LockContentions);
    }

    [Fact]
    public void Verbose_level_does_not_bring_per_work_item_events()
    {
        using var instruments = new LoopDoctorInstruments();
        using var recorder = new MeasurementRecorder(instruments.Meter);
        using var listener = new RuntimeEventListener(new LoopDoctorOptions(), instruments); // everything on, Verbose

        // The listener asks for Verbose (WaitHandle events need it) with the Threading keyword: a runtime that wrote
        // per-work-item events (enqueue/dequeue) at that level would bring 40 000 events here and cost every app dearly.
        const int workItems = 20_000;
        using var done = new CountdownEvent(workItems);
        for (var i = 0; i < workItems; i++)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static d => d.Signal(), done, preferLocal: false);
        }

        Assert.True(done.Wait(Timeout));
        BlockOnResult(TimeSpan.FromMilliseconds(300), onPoolThread: true); // marker: events up to here were delivered
        recorder.WaitFor(m => m.Any(x => x.Instrument == BlockingWaitDuration && x.Value >= 0.2 && x.Tag("wait.source") == "monitor_wait"),
            Timeout, "the marker pool wait");

        Assert.InRange(listener.EventsReceived, 2, workItems / 10);
        Assert.Equal(0, listener.EventErrors);
    }

    [Fact]
    public void Starved_pool_injections_are_counted_by_reason_with_the_time_of_the_last_one()
    {
        var clock = new ManualTimeProvider(new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero));
        using var instruments = new LoopDoctorInstruments();
        using var recorder = new MeasurementRecorder(instruments.Meter);
        using var listener = new RuntimeEventListener(Only(injections: true), instruments, clock);
        Assert.Null(listener.LastStarvationInjection);

        // Block work items on a plain event (not a Task wait, so no cooperative-blocking help), a few more at a time,
        // until the gate thread injects threads for starvation (~1 per 500 ms once every thread is blocked). How many it
        // takes depends on the thread goal earlier tests left behind.
        static bool Starved(IReadOnlyList<Measurement> m) => m.Any(x => x.Instrument == ThreadInjections && x.Tag("reason") == "starvation");
        var release = new ManualResetEventSlim(); // not disposed: blockers may still touch it after the test
        var queued = 0;
        using var finished = new CountdownEvent(1);
        var deadline = DateTime.UtcNow + Timeout;
        try
        {
            while (!recorder.TryWaitFor(Starved, TimeSpan.FromMilliseconds(100)))
            {
                Assert.True(DateTime.UtcNow < deadline && queued < 1000, $"no starvation injection with {queued} blocked work items");
                for (var i = 0; i < 4; i++, queued++)
                {
                    finished.AddCount();
                    ThreadPool.UnsafeQueueUserWorkItem(_ =>
                    {
                        release.Wait();
                        finished.Signal();
                    }, null);
                }
            }

            Assert.All(recorder.Of(ThreadInjections), m => Assert.InRange(m.Value, 1, 100));
        }
        finally
        {
            release.Set();
            finished.Signal(); // the initial count
            Assert.True(finished.Wait(Timeout), "the blocked work items did not drain"); // leave a healthy pool behind
        }

        Assert.True(listener.StarvationInjections >= 1);
        Assert.True(listener.ThreadsInjected >= listener.StarvationInjections);
        Assert.Equal(clock.GetUtcNow(), listener.LastStarvationInjection);
    }

    [Fact]
    public async Task Sync_over_async_on_pool_threads_counts_as_starvation_class_injections()
    {
        var clock = new ManualTimeProvider(new DateTimeOffset(2031, 1, 1, 0, 0, 0, TimeSpan.Zero));
        using var instruments = new LoopDoctorInstruments();
        using var recorder = new MeasurementRecorder(instruments.Meter);
        using var listener = new RuntimeEventListener(Only(injections: true), instruments, clock);

        // Pool threads block on .Result, one more at a time, until the runtime adds threads: earlier tests may have left
        // the thread goal high, so how many it takes is not known in advance. In a plain console app on .NET 10 the
        // answer is cooperative_blocking raises (~25 ms each); inside this test host the same code showed starvation
        // raises (~500 ms). Both are what the health check must see, so both count as starvation-class.
        static bool Injected(IReadOnlyList<Measurement> m)
            => m.Any(x => x.Instrument == ThreadInjections && x.Tag("reason") is "cooperative_blocking" or "starvation");
        var tcs = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var blockers = new List<Task<int>>();
        var deadline = DateTime.UtcNow + Timeout;
        try
        {
            while (!recorder.TryWaitFor(Injected, TimeSpan.FromMilliseconds(100)))
            {
                Assert.True(DateTime.UtcNow < deadline && blockers.Count < 1000, $"no injection with {blockers.Count} blocked pool threads");
                blockers.Add(Task.Run(() => tcs.Task.Result));
            }
        }
        finally
        {
            tcs.SetResult(1);
            await Task.WhenAll(blockers).WaitAsync(Timeout); // leave a healthy pool behind
        }

        Assert.True(listener.StarvationInjections >= 1);
        Assert.Equal(clock.GetUtcNow(), listener.LastStarvationInjection);
    }

    [Fact]
    public void Adjustments_count_only_threads_added_after_a_baseline()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UnixEpoch);
        using var instruments = new LoopDoctorInstruments();
        using var recorder = new MeasurementRecorder(instruments.Meter);
        using var listener = new RuntimeEventListener(new LoopDoctorOptions
        {
            CaptureThreadInjections = false, CaptureBlockingWaits = false, CaptureLockContention = false,
        }, instruments, clock);
        Assert.Equal(0, (long)listener.Keywords);

        listener.HandleAdjustment(4, 0);      // no baseline: warmup to 4 says nothing about how many were added
        listener.HandleAdjustment(5, 8);      // +1 cooperative_blocking
        listener.HandleAdjustment(3, 8);      // down: not counted
        clock.Advance(TimeSpan.FromSeconds(7));
        listener.HandleAdjustment(6, 6);      // +3 starvation
        listener.HandleAdjustment(7, 3);      // +1 climbing_move
        listener.HandleAdjustment(9, 42);     // +2 unknown reason

        var injections = recorder.Of(ThreadInjections);
        Assert.Equal(
            ["cooperative_blocking:1", "starvation:3", "climbing_move:1", "unknown:2"],
            injections.Select(m => $"{m.Tag("reason")}:{m.Value}"));
        Assert.Equal(4, listener.StarvationInjections);
        Assert.Equal(7, listener.ThreadsInjected);
        Assert.Equal(DateTimeOffset.UnixEpoch.AddSeconds(7), listener.LastStarvationInjection);
    }

    [Fact]
    public void First_starvation_without_baseline_counts_one()
    {
        using var instruments = new LoopDoctorInstruments();
        using var listener = new RuntimeEventListener(Only(), instruments);
        listener.HandleAdjustment(12, 6);
        Assert.Equal(1, listener.StarvationInjections);
    }

    [Fact]
    public void Native_contention_is_ignored_and_duration_is_in_seconds()
    {
        using var instruments = new LoopDoctorInstruments();
        using var recorder = new MeasurementRecorder(instruments.Meter);
        using var listener = new RuntimeEventListener(Only(), instruments);
        listener.HandleContention(1, 5_000_000);
        listener.HandleContention(0, 250_000_000);
        Assert.Equal([1.0], recorder.Of(LockContentions).Select(m => m.Value));
        Assert.Equal([0.25], recorder.Of(LockContentionDuration).Select(m => m.Value));
    }

    [Theory]
    [InlineData(true, false, false, 0x10000L)]
    [InlineData(false, true, false, 0x40000010000L)]
    [InlineData(false, false, true, 0x4000L)]
    [InlineData(false, false, false, 0L)]
    public void Enables_only_the_keywords_the_options_ask_for(bool injections, bool waits, bool contention, long expected)
        => Assert.Equal(expected, (long)RuntimeEventListener.KeywordsFor(Only(injections, waits, contention)));

    private static void BlockOnResult(TimeSpan hold, bool onPoolThread)
    {
        var tcs = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var waiting = new ManualResetEventSlim();
        void Block()
        {
            waiting.Set();
            _ = tcs.Task.Result; // the anti-pattern under test
        }

        Task? poolWork = null;
        Thread? thread = null;
        if (onPoolThread)
        {
            poolWork = Task.Run(Block);
        }
        else
        {
            thread = new Thread(Block) { IsBackground = true };
            thread.Start();
        }

        Assert.True(waiting.Wait(Timeout));
        Thread.Sleep(hold); // the behaviour under test: how long the other thread stays blocked
        tcs.SetResult(1);
        Assert.True(poolWork?.Wait(Timeout) ?? thread!.Join(Timeout));
    }
}
