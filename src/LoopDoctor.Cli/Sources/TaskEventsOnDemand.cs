using LoopDoctor.Cli.Projections;
using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Sources;

/// <summary>
/// Opens <see cref="TaskWaitSession"/> only when the target blocks on tasks, for a burst. Enabling TplEventSource at all
/// moves every await in the target onto the runtime's traced path and writes a few events per await (docs/benchmarks.md
/// P10), so a service that never blocks on a task
/// never pays it. The first synchronous task wait of a pool thread (a wait event, or a stack sample parked in one when
/// the runtime has no wait events) opens a burst of <see cref="BurstLength"/>; waits that begin during it say what they
/// wait for, and their call sites keep that name for the rest of the session. Another burst may follow after
/// <see cref="Pause"/>, for call sites that appear later.
/// </summary>
internal sealed class TaskEventsOnDemand : IDisposable
{
    public static readonly TimeSpan BurstLength = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan Pause = TimeSpan.FromSeconds(55);

    private readonly int _processId;
    private readonly SessionClock _mainClock;
    private readonly Action<Signal> _sink;
    private readonly TextWriter _log;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private long _nextStartAllowed;
    private bool _running;
    private bool _disposed;
    private TaskWaitSession? _session;
    private ITimer? _stopTimer;
    private Task _transition = Task.CompletedTask;

    public TaskEventsOnDemand(int processId, SessionClock mainClock, Action<Signal> sink, TextWriter log, TimeProvider? time = null)
    {
        _processId = processId;
        _mainClock = mainClock;
        _sink = sink;
        _log = log;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Sees every signal (on a session's reader thread): a task wait starts a burst when none runs. Never blocks.</summary>
    public void Observe(Signal signal)
    {
        if (!IsTaskWait(signal))
        {
            return;
        }

        lock (_lock)
        {
            if (_disposed || _running || _time.GetTimestamp() < _nextStartAllowed)
            {
                return;
            }

            _running = true;
            if (Environment.GetEnvironmentVariable("LOOPDOCTOR_DEBUG") == "1")
            {
                _log.WriteLine($"loopdoctor: task events triggered by {signal.GetType().Name} on thread {signal.ThreadId}: " +
                               string.Join(" <- ", ((signal as WaitStarted)?.Stack ?? (signal as StackSample)?.Stack)?.Frames.Take(12) ?? []));
            }

            _transition = Task.Run(Start);
        }
    }

    /// <summary>A pool thread blocking on a task: its wait event, or a sample parked in one (no wait events on .NET 8).</summary>
    internal static bool IsTaskWait(Signal signal) => signal switch
    {
        WaitStarted wait => OnPoolThreadInTaskWait(wait.Stack),
        StackSample { Kind: SampleKind.External } sample => OnPoolThreadInTaskWait(sample.Stack),
        _ => false,
    };

    // A named task-wait API only: Monitor.Wait or nothing may be any wait.
    private static bool OnPoolThreadInTaskWait(CallStack stack) =>
        stack.HasPoolDispatchFrame && stack.BlockingApi is { } api && api != "Monitor.Wait" && AwaitedTasks.IsTaskWait(api);

    private void Start()
    {
        var session = TaskWaitSession.TryStart(_processId, _mainClock, _sink, _log);
        lock (_lock)
        {
            if (session is null || _disposed)
            {
                session?.Dispose();
                _running = false;
                _nextStartAllowed = _time.GetTimestamp() + (long)(Pause.TotalSeconds * _time.TimestampFrequency);
                return;
            }

            _session = session;
            _stopTimer = _time.CreateTimer(_ => Stop(), null, BurstLength, Timeout.InfiniteTimeSpan);
        }

        _log.WriteLine($"loopdoctor: pool threads block on tasks: reading the TPL's task events for {BurstLength.TotalSeconds:0} s to name what they wait for.");
    }

    private void Stop()
    {
        TaskWaitSession? session;
        lock (_lock)
        {
            session = TakeSession();
            _nextStartAllowed = _time.GetTimestamp() + (long)(Pause.TotalSeconds * _time.TimestampFrequency);
            _running = false;
        }

        if (session is not null)
        {
            _ = StopSessionAsync(session);
        }
    }

    // Under _lock: the burst's session, now no longer this object's to stop, and its timer cancelled.
    private TaskWaitSession? TakeSession()
    {
        var session = _session;
        _session = null;
        _stopTimer?.Dispose();
        _stopTimer = null;
        return session;
    }

    private static async Task StopSessionAsync(TaskWaitSession session)
    {
        await session.StopAsync().ConfigureAwait(false);
        session.Dispose();
    }

    /// <summary>Stops a burst in progress (its events are read to the end) and starts no other.</summary>
    public async Task StopAsync()
    {
        Task transition;
        lock (_lock)
        {
            _disposed = true;
            transition = _transition;
        }

        await Task.WhenAny(transition, Task.Delay(TimeSpan.FromSeconds(10))).ConfigureAwait(false);
        TaskWaitSession? session;
        lock (_lock)
        {
            session = TakeSession();
        }

        if (session is not null)
        {
            await StopSessionAsync(session).ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        TaskWaitSession? session;
        lock (_lock)
        {
            _disposed = true;
            session = TakeSession();
        }

        session?.Dispose();
    }
}
