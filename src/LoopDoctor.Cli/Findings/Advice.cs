namespace LoopDoctor.Cli.Findings;

/// <summary>
/// One-paragraph fixes in .NET terms, translated from the asyncio guides' "never block the event loop" advice
/// (the thread pool is .NET's event loop: a blocked pool thread is a stalled loop).
/// </summary>
internal static class Advice
{
    public const string SyncOverAsync =
        "Do not block a thread-pool thread waiting for async work: replace .Result, .Wait() and GetAwaiter().GetResult() " +
        "with await all the way up the call chain (make the caller async and return Task). A blocked pool thread cannot run " +
        "the continuation it waits for, so the pool must inject threads (about one every 0.5 s under starvation) and every " +
        "request queues behind it. For SemaphoreSlim use await WaitAsync(); if an API is synchronous only, isolate it on a " +
        "dedicated thread instead of the pool.";

    public const string BlockingWait =
        "This thread-pool thread blocks in a synchronous wait. Prefer asynchronous waits (await the task, " +
        "SemaphoreSlim.WaitAsync, await Task.WhenAny with a Task.Delay for a timeout) so the thread returns to the pool " +
        "while it waits; always put a timeout on waits so one slow dependency cannot hold threads forever.";

    public const string LockContention =
        "Threads queue for this lock. Keep critical sections short: compute outside the lock and only publish the result inside; " +
        "never do I/O, sleep or wait for a task while holding a lock. Consider lock-free structures (ConcurrentDictionary, " +
        "Interlocked, immutable snapshots), finer-grained locks, or SemaphoreSlim with await WaitAsync() when the section " +
        "must span an await.";

    public const string FrameworkLockContention =
        "These locks are taken inside framework code, so there is no critical section of yours to shorten: they are part " +
        "of what the named API costs when many threads call it at once. Make fewer threads call it at once: await instead of " +
        "blocking in a task wait, use HttpClient.SendAsync rather than Send, and bound how many callers queue on one " +
        "SemaphoreSlim or connection pool.";

    public const string LongCallbackCpu =
        "A work item ran on a thread-pool thread for longer than the slow-callback threshold, computing. The pool's threads " +
        "are shared by every request: offload long CPU work (a bounded Channel consumed by a fixed number of workers, or " +
        "Task.Factory.StartNew with TaskCreationOptions.LongRunning), bound it (limit input size, add a time budget and a " +
        "CancellationToken), or split it and await Task.Yield() between chunks.";

    public const string LongCallbackBlocked =
        "A work item held a thread-pool thread for longer than the slow-callback threshold while blocked outside managed code " +
        "(Thread.Sleep, synchronous I/O). Use await Task.Delay instead of Thread.Sleep, and the async I/O APIs " +
        "(ReadAsync, WriteAsync, SendAsync, database async methods) instead of synchronous ones, with a CancellationToken " +
        "and a timeout.";

    public const string UnobservedTaskException =
        "A task faulted and nobody observed its exception: a fire-and-forget call lost an error. Await the task, or track " +
        "background work (a hosted BackgroundService, a Channel consumed by a worker, or keep the Task and await it on " +
        "shutdown) and wrap the fire-and-forget body in try/catch that logs. Add timeouts so such tasks cannot hang forever.";

    public const string Starvation =
        "The thread pool is starving: work items wait because every pool thread is busy or blocked, and the runtime is " +
        "injecting threads to compensate. Fix the blocking call sites listed in this report (await instead of .Result/.Wait(), " +
        "Task.Delay instead of Thread.Sleep, offload CPU work). Raising ThreadPool.SetMinThreads only hides the problem and " +
        "costs memory; use it as a stop-gap at most.";

    public const string HighLag =
        "Work queued to the thread pool (or a timer) started late: the process cannot keep up with its work. Look at the " +
        "other findings for the blocking or long-running call sites; if there are none, the process is CPU-bound: " +
        "scale out, reduce work per request, or shed load (AddLoopDoctor load shedding) before latency grows unbounded.";

    public const string Deadlock =
        "These threads wait for each other's locks and will never run again; the process must be restarted, and every " +
        "request that needs one of these locks will hang too. Take nested locks in one global order everywhere (for " +
        "example by account id), or do not hold one lock while taking another: copy what you need, release, then take the " +
        "next. Prefer SemaphoreSlim.WaitAsync with a timeout and a CancellationToken to nested lock statements, so a mistake " +
        "becomes a timeout instead of a hang.";

    public const string HungWait =
        "These threads have waited for the same thing for longer than the hung-wait threshold, and no lock cycle explains " +
        "it: a ManualResetEventSlim or TaskCompletionSource nobody sets, a SemaphoreSlim nobody releases, a task that never " +
        "completes. Find who should signal it (an exception on that path is the usual cause), and give every wait a " +
        "timeout and a CancellationToken (Wait(timeout, token), WaitAsync(timeout)); await instead of blocking a thread.";

    public const string GcPauseInduced =
        "The application calls GC.Collect, and each call stops every managed thread for the whole collection (a full, " +
        "blocking, compacting GC over the whole heap: the larger the heap, the longer). Remove the call: the GC decides " +
        "better when to collect. To free a cache's memory, bound the cache (MemoryCache with SizeLimit) instead; for a " +
        "one-off after a large release, GCSettings.LargeObjectHeapCompactionMode with a collection at a quiet moment only.";

    public const string GcPauseAllocation =
        "The GC stopped every managed thread for longer than the lag threshold because of how much the application " +
        "allocates and keeps. Allocate less at the call sites listed (reuse buffers with ArrayPool<T>.Shared, stream instead " +
        "of building large arrays or strings, avoid objects of 85 KB and more: they go to the large object heap and are " +
        "collected only in gen2), keep less alive (bounded caches), and check the GC mode: Server GC with concurrent " +
        "collections (the ASP.NET Core default) keeps gen2 mostly in the background.";
}
