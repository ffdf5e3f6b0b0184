using BlockingApp.Scenarios;

namespace BlockingApp.Hosting;

/// <summary>What <c>GET /gc</c> answers after a full, finalized collection.</summary>
public sealed record GarbageCollectionReport(
    long UnobservedTaskExceptions,
    long ObservedBackgroundFailures,
    int PendingBackgroundTasks,
    int Gen0Collections,
    int Gen2Collections);

/// <summary>Endpoints for harnesses, not part of any scenario.</summary>
public static class AdminEndpoints
{
    /// <summary>
    /// <c>GET /gc</c>: full blocking GC, wait for finalizers, GC again. A faulted task nobody observed raises
    /// <c>TaskScheduler.UnobservedTaskException</c> only from its finalizer, so tests (and the load driver after a
    /// fire-and-forget run) call this instead of hoping a GC happens soon. It runs on a dedicated thread because
    /// <c>WaitForPendingFinalizers</c> blocks, and blocking a pool thread is what this app demonstrates, not what it does.
    /// </summary>
    public static async Task<GarbageCollectionReport> CollectGarbageAsync(
        UnobservedTaskExceptionCounter unobserved, BackgroundTaskTracker tracker)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var collector = new Thread(() =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            done.SetResult();
        })
        { IsBackground = true, Name = "BlockingApp /gc" };
        collector.Start();
        await done.Task;
        return new GarbageCollectionReport(unobserved.Count, tracker.ObservedFailures, tracker.Pending,
            GC.CollectionCount(0), GC.CollectionCount(2));
    }
}
