namespace BlockingApp.Scenarios;

/// <summary>
/// The app's own count of <see cref="TaskScheduler.UnobservedTaskException"/>, reported by <c>/gc</c> so the
/// <c>/fire-and-forget</c> scenario can be checked without the agent. It does not call <c>SetObserved()</c>:
/// the sample must not change what LoopDoctor sees.
/// </summary>
public sealed class UnobservedTaskExceptionCounter : IDisposable
{
    private long _count;

    public UnobservedTaskExceptionCounter() => TaskScheduler.UnobservedTaskException += OnUnobserved;

    public long Count => Interlocked.Read(ref _count);

    private void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e) => Interlocked.Increment(ref _count);

    public void Dispose() => TaskScheduler.UnobservedTaskException -= OnUnobserved;
}
