namespace LoopDoctor.Cli.Signals;

/// <summary>
/// A normalized observation from the target, independent of where it came from (live EventPipe session or a
/// .nettrace file). Timestamps are the event's own, in milliseconds since the trace began: live delivery of
/// sparse events lags by seconds, so arrival time is never used.
/// </summary>
internal abstract record Signal(double TimestampMs, int ThreadId);

/// <summary>How a wait started, from the runtime's WaitHandleWaitStart <c>WaitSource</c> field.</summary>
internal enum WaitSource
{
    Unknown = 0,
    MonitorWait = 1,
}

/// <summary>A thread began a blocking wait (WaitHandleWaitStart: WaitHandle.WaitOne, Monitor.Wait, .Result, .Wait(), ...).</summary>
internal sealed record WaitStarted(double TimestampMs, int ThreadId, WaitSource Source, CallStack Stack) : Signal(TimestampMs, ThreadId);

/// <summary>The thread's blocking wait ended (WaitHandleWaitStop).</summary>
internal sealed record WaitStopped(double TimestampMs, int ThreadId) : Signal(TimestampMs, ThreadId);

/// <summary>A thread began waiting for a contended lock (ContentionStart).</summary>
internal sealed record ContentionStarted(double TimestampMs, int ThreadId, CallStack Stack) : Signal(TimestampMs, ThreadId);

/// <summary>The thread acquired the contended lock after <paramref name="DurationMs"/> (ContentionStop <c>DurationNs</c>).</summary>
internal sealed record ContentionStopped(double TimestampMs, int ThreadId, double DurationMs, CallStack Stack) : Signal(TimestampMs, ThreadId);

/// <summary>The pool changed its worker thread target (<see cref="AdjustmentReason"/> is the agent's ThreadPoolAdjustmentReason).</summary>
internal sealed record PoolAdjustment(double TimestampMs, int ThreadId, int NewWorkerThreadCount, AdjustmentReason Reason) : Signal(TimestampMs, ThreadId);

/// <summary>Evidence that <see cref="Signal.ThreadId"/> is a thread-pool worker (it dequeued work, started or parked as a worker).</summary>
internal sealed record PoolThreadSeen(double TimestampMs, int ThreadId, int? ActiveWorkerCount = null) : Signal(TimestampMs, ThreadId);

/// <summary>What a sampled thread was doing (SampleProfiler ThreadSample <c>Type</c>).</summary>
internal enum SampleKind
{
    /// <summary>Running outside managed code: blocked in a syscall (Thread.Sleep, synchronous I/O) or waiting.</summary>
    External = 1,

    /// <summary>Running managed code (CPU).</summary>
    Managed = 2,
}

/// <summary>
/// One sample of one thread's stack from the sample profiler (about every millisecond per managed thread), or a run of
/// <see cref="Count"/> consecutive identical ones of that thread up to <see cref="LastTimestampMs"/> with nothing else
/// of the thread in between (the offline reader collapses them: an idle thread's stack repeats for minutes).
/// </summary>
internal sealed record StackSample(double TimestampMs, int ThreadId, SampleKind Kind, CallStack Stack) : Signal(TimestampMs, ThreadId)
{
    public int Count { get; init; } = 1;

    public double LastTimestampMs { get; init; } = TimestampMs;
}

/// <summary>A value published by System.Diagnostics.Metrics (e.g. <c>dotnet.thread_pool.queue.length</c>).</summary>
internal sealed record MetricValue(double TimestampMs, string MeterName, string InstrumentName, double Value) : Signal(TimestampMs, 0);

/// <summary>A histogram interval published by System.Diagnostics.Metrics: quantiles in the instrument's unit.</summary>
internal sealed record MetricHistogram(double TimestampMs, string MeterName, string InstrumentName, IReadOnlyDictionary<double, double> Quantiles, long Count) : Signal(TimestampMs, 0);

/// <summary>The LoopDoctor agent runs in the target (LoopDoctor-Agent/AgentStarted).</summary>
internal sealed record AgentStarted(double TimestampMs, string Version, string Mode) : Signal(TimestampMs, 0);

/// <summary>The agent saw a thread-pool queue delay over its threshold.</summary>
internal sealed record QueueDelaySpike(double TimestampMs, double DelayMs, double ThresholdMs) : Signal(TimestampMs, 0);

/// <summary>The agent saw a timer fire late by more than its threshold.</summary>
internal sealed record TimerLagSpike(double TimestampMs, double LagMs, double ThresholdMs) : Signal(TimestampMs, 0);

/// <summary>A faulted task's exception was never observed (the agent's TaskScheduler.UnobservedTaskException handler).</summary>
internal sealed record UnobservedTaskException(double TimestampMs, string ExceptionType, string StackTrace, string Message) : Signal(TimestampMs, 0);

/// <summary>Which ASP.NET Core diagnostic event marked a request on a thread.</summary>
internal enum RequestMarkerKind
{
    /// <summary><c>Microsoft.AspNetCore.Routing.EndpointMatched</c>: routing chose the endpoint (any endpoint: MVC, minimal API, ...).</summary>
    EndpointMatched,

    /// <summary><c>Microsoft.AspNetCore.Mvc.BeforeAction</c>: MVC is about to call a controller action, on this thread.</summary>
    BeforeAction,
}

/// <summary>
/// ASP.NET Core said, on <see cref="Signal.ThreadId"/>, which request it is serving (through the runtime's DiagnosticSource
/// bridge): the HTTP method and path, and for an MVC action its display name and attribute route template.
/// </summary>
internal sealed record RequestMarker(double TimestampMs, int ThreadId, RequestMarkerKind Kind, string? Method, string? Path, string? Action, string? Route)
    : Signal(TimestampMs, ThreadId);

/// <summary>How a TPL task wait began (TplEventSource's <c>TaskWaitBehavior</c>).</summary>
internal enum TaskWaitBehavior
{
    /// <summary>A thread blocks until the task completes: <c>.Result</c>, <c>.Wait()</c>, <c>GetAwaiter().GetResult()</c>.</summary>
    Synchronous = 1,

    /// <summary>An <c>await</c>: the async method whose task is <see cref="TaskWaitStarted.ContinueWithTaskId"/> resumes after it.</summary>
    Asynchronous = 2,
}

/// <summary>
/// A wait on task <paramref name="TaskId"/> began on this thread (TplEventSource <c>TaskWaitBegin</c>); for an await,
/// <paramref name="ContinueWithTaskId"/> is the task of the async method that awaits it.
/// </summary>
internal sealed record TaskWaitStarted(double TimestampMs, int ThreadId, int TaskId, TaskWaitBehavior Behavior, int ContinueWithTaskId)
    : Signal(TimestampMs, ThreadId);

/// <summary>
/// The runtime named a task's operation when it created it (TplEventSource <c>TraceOperationBegin</c>): an async method's
/// ("Async: &lt;FindByNameAsync&gt;d__2") or a built-in promise's ("Task.Delay", "Task.WhenAll").
/// </summary>
internal sealed record AsyncOperationStarted(double TimestampMs, int ThreadId, int TaskId, string OperationName) : Signal(TimestampMs, ThreadId);
