using System.Collections.Concurrent;

namespace BlockingApp.Scenarios;

/// <summary>
/// The .NET form of the seeds' "track background tasks" (keep a set, discard on completion, gather before exit):
/// every tracked task's exception is observed and counted, and the host waits for the pending ones at shutdown.
/// </summary>
public sealed class BackgroundTaskTracker(ILogger<BackgroundTaskTracker> logger) : IHostedService
{
    private readonly ConcurrentDictionary<Task, byte> _pending = new();
    private long _observedFailures;

    /// <summary>Tracked tasks that faulted (their exceptions were observed, so they never reach UnobservedTaskException).</summary>
    public long ObservedFailures => Interlocked.Read(ref _observedFailures);

    public int Pending => _pending.Count;

    public void Track(Task task)
    {
        _pending.TryAdd(task, 0);
        task.ContinueWith(static (completed, state) => ((BackgroundTaskTracker)state!).OnCompleted(completed), this,
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private void OnCompleted(Task task)
    {
        _pending.TryRemove(task, out _);
        if (task.Exception is { } error)
        {
            // Reading Task.Exception marks it observed. Debug level: at 50 rps a warning per request would drown the log.
            Interlocked.Increment(ref _observedFailures);
            logger.LogDebug(error.InnerException, "Background task failed");
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Waits for the pending background tasks, bounded by the host's shutdown timeout.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var pending = _pending.Keys.ToArray();
        try
        {
            await Task.WhenAll(pending).WaitAsync(cancellationToken);
        }
        catch (Exception) when (pending.All(t => t.IsCompleted) || cancellationToken.IsCancellationRequested)
        {
            // Failures were observed and counted in OnCompleted; a shutdown timeout abandons the rest.
        }
    }
}
