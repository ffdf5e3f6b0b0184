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
    private static readonly TimerCallback Callback = static state => ((TimerLagProbe)state!).OnFired();

    private readonly ITimer _timer;
    private long _scheduledAt;  // timestamp the armed timer is due; 0 = not armed
    private long _firedAt;      // written by the callback; 0 = not yet

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

    internal override void Tick(long now)
    {
        if (IsDisposed)
        {
            return;
        }

        long scheduledAt = Volatile.Read(ref _scheduledAt);
        if (scheduledAt != 0)
        {
            long firedAt = Volatile.Read(ref _firedAt);
            if (firedAt == 0)
            {
                return;  // not fired yet (or overdue: CurrentDelay shows it)
            }

            Volatile.Write(ref _scheduledAt, 0);
            RecordSample(firedAt - scheduledAt, firedAt);
        }

        Volatile.Write(ref _firedAt, 0);
        long armedAt = TimeProvider.GetTimestamp();
        Volatile.Write(ref _scheduledAt, Math.Max(1, armedAt + IntervalTicks));
        try
        {
            _timer.Change(Interval, Timeout.InfiniteTimeSpan);
        }
        catch (Exception)
        {
            Volatile.Write(ref _scheduledAt, 0);
            CountCallbackError();
        }
    }

    internal override long CurrentDelayTicks(long now) => OutstandingTicks(now, Volatile.Read(ref _scheduledAt), Volatile.Read(ref _firedAt));

    private protected override void OnDisposed() => _timer.Dispose();

    private void OnFired()
    {
        if (Volatile.Read(ref _firedAt) == 0)
        {
            long now = TimeProvider.GetTimestamp();
            Volatile.Write(ref _firedAt, now == 0 ? 1 : now);
        }
    }
}
