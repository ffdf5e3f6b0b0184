namespace LoopDoctor.Agent.Probes;

/// <summary>
/// Thread-pool queue delay: time a work item waits in the pool's <b>global</b> queue before a worker starts it.
/// Posts one cached <see cref="IThreadPoolWorkItem"/> with <c>preferLocal: false</c> (the sampler is not a pool thread,
/// and the global queue is where requests, timers and I/O continuations from outside the pool wait), so a probe
/// allocates nothing. Unsafe queueing: no ExecutionContext is captured from the sampler thread (it has none of the app's).
/// </summary>
internal sealed class ThreadPoolLagProbe : LagProbe
{
    private readonly WorkItem _workItem;

    internal ThreadPoolLagProbe(string name, TimeSpan interval, LagProbeOutputs? outputs, TimeProvider timeProvider)
        : base(name, interval, outputs, timeProvider)
    {
        _workItem = new WorkItem(this);
    }

    private protected override void Send() => ThreadPool.UnsafeQueueUserWorkItem(_workItem, preferLocal: false);

    private sealed class WorkItem(ThreadPoolLagProbe probe) : IThreadPoolWorkItem
    {
        public void Execute() => probe.MarkStarted();
    }
}
