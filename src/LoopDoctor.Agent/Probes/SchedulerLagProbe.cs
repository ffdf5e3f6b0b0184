namespace LoopDoctor.Agent.Probes;

/// <summary>
/// Queue delay of any <see cref="SynchronizationContext"/> (UI thread, custom single-threaded loop) or
/// <see cref="TaskScheduler"/> (actor scheduler, limited-concurrency scheduler): post → start of a no-op.
/// <para>
/// <see cref="SynchronizationContext.Post"/> is called with a cached static delegate and the probe as state, so the
/// probe itself allocates nothing (the context may). A <see cref="TaskScheduler"/> only runs <see cref="Task"/>s, so
/// probing one allocates one small Task per sample (every 10 ms by default: ~100 Tasks/s, acceptable).
/// </para>
/// </summary>
internal sealed class SchedulerLagProbe : LagProbe
{
    private static readonly SendOrPostCallback PostCallback = static state => ((SchedulerLagProbe)state!).MarkStarted();
    private static readonly Action<object?> TaskAction = static state => ((SchedulerLagProbe)state!).MarkStarted();

    private readonly SynchronizationContext? _context;
    private readonly TaskScheduler? _scheduler;

    internal SchedulerLagProbe(SynchronizationContext context, string name, TimeSpan interval, LagProbeOutputs? outputs, TimeProvider timeProvider)
        : base(name, interval, outputs, timeProvider)
    {
        _context = context ?? throw new ArgumentNullException(nameof(context));
    }

    internal SchedulerLagProbe(TaskScheduler scheduler, string name, TimeSpan interval, LagProbeOutputs? outputs, TimeProvider timeProvider)
        : base(name, interval, outputs, timeProvider)
    {
        _scheduler = scheduler ?? throw new ArgumentNullException(nameof(scheduler));
    }

    private protected override void Send()
    {
        if (_context is not null)
        {
            _context.Post(PostCallback, this);
        }
        else
        {
            Task.Factory.StartNew(TaskAction, this, CancellationToken.None, TaskCreationOptions.DenyChildAttach, _scheduler!);
        }
    }
}
