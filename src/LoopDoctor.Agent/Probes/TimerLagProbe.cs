namespace LoopDoctor.Agent.Probes;

/// <summary>
/// Timer lag: how late a timer callback runs against its schedule (lag = actual − scheduled). A one-shot
/// <see cref="ITimer"/> is armed for <see cref="LagProbe.Interval"/> from the sampler thread; its callback (a thread-pool
/// work item, queued by the runtime's timer thread) only writes a timestamp; the next sampler tick records the lag,
/// corrected for coordinated omission with the timer interval, and re-arms. While the timer is overdue,
/// <see cref="LagProbe.CurrentDelay"/> is how overdue it is.
/// </summary>
internal sealed class TimerLagProbe : LagProbe
{
    private static readonly TimerCallback Callback = static state => ((TimerLagProbe)state!).MarkStarted();

    private readonly ITimer _timer;

    internal TimerLagProbe(string name, TimeSpan interval, LagProbeOutputs? outputs, TimeProvider timeProvider)
        : base(name, interval, outputs, timeProvider)
    {
        // Don't capture the creator's ExecutionContext (AsyncLocals, activity) into a timer that lives for the process.
        bool restoreFlow = !ExecutionContext.IsFlowSuppressed();
        if (restoreFlow)
        {
            ExecutionContext.SuppressFlow();
        }

        try
        {
            _timer = timeProvider.CreateTimer(Callback, this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
        finally
        {
            if (restoreFlow)
            {
                ExecutionContext.RestoreFlow();
            }
        }
    }

    private protected override long DueAt(long sentAt) => sentAt + IntervalTicks;

    private protected override void Send() => _timer.Change(Interval, Timeout.InfiniteTimeSpan);

    private protected override void OnDisposed() => _timer.Dispose();
}
