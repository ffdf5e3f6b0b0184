using LoopDoctor.Cli.Projections;
using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Sources;

/// <summary>
/// Opens <see cref="WaitContextSession"/> only while pool threads block, for a burst. Enabling TplEventSource at all moves
/// every await in the target onto the runtime's traced path and writes a few events per await (docs/benchmarks.md P10),
/// and request markers come one or two per request (P5), so a service whose pool threads never block never pays for
/// them. The first pool thread parked in a named wait (its wait event, or a stack sample parked in one when the runtime
/// has no wait events) opens a burst of <see cref="BurstLength"/>; waits that begin during it say what
/// they wait for and which endpoint they serve, and their call sites keep those names for the rest of the session.
/// Another burst may follow after <see cref="Pause"/>, for call sites that appear later.
/// </summary>
internal sealed class WaitContextOnDemand : IDisposable
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
    private WaitContextSession? _session;
    private ITimer? _stopTimer;
    private Task _transition = Task.CompletedTask;

    public WaitContextOnDemand(int processId, SessionClock mainClock, Action<Signal> sink, TextWriter log, TimeProvider? time = null)
    {
        _processId = processId;
        _mainClock = mainClock;
        _sink = sink;
        _log = log;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Sees every signal (on a session's reader thread): a pool thread blocking starts a burst when none runs. Never blocks.</summary>
    public void Observe(Signal signal)
    {
        if (!IsBlockedPoolThread(signal))
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
                _log.WriteLine($"loopdoctor: wait context triggered by {signal.GetType().Name} on thread {signal.ThreadId}: " +
                               string.Join(" <- ", ((signal as WaitStarted)?.Stack ?? (signal as StackSample)?.Stack)?.Frames.Take(12) ?? []));
            }

            _transition = Task.Run(Start);
        }
    }

    /// <summary>
    /// A pool thread parked in a named wait: its wait event, or a sample parked in one (no wait events on .NET 8;
    /// Thread.Sleep and Thread.Join show only in samples). Not lock contention: a burst opened under a contended lock
    /// stretched a callback holding it past the long-callback threshold in `check`'s lock baseline test (session 8).
    /// </summary>
    internal static bool IsBlockedPoolThread(Signal signal) => signal switch
    {
        WaitStarted wait => OnPoolThreadParked(wait.Stack),
        StackSample { Kind: SampleKind.External } sample => OnPoolThreadParked(sample.Stack),
        _ => false,
    };

    // A named wait, in application code or on a task (an inlined action leaves none of its frames) or in Thread.Sleep. Not
    // Monitor.Wait alone; not a lock's wait (a brief contention, e.g. the timer queue's lock under Task.Delay at
    // saturation, P5: long ones come as ContentionStopped); not a socket or file read sampled outside managed code, as
    // often a non-blocking call that returns at once (Kestrel's receives).
    private static bool OnPoolThreadParked(CallStack stack) =>
        stack.HasPoolDispatchFrame && stack.IsInSynchronizationWait | stack.BlockingApi == "Thread.Sleep" && stack.BlockingApi != "Monitor.Wait"
        && (AwaitedTasks.IsTaskWait(stack.BlockingApi) || stack.BlockingApi == "Thread.Sleep" || stack.ApplicationFrames.Count > 0)
        && !stack.Frames.Any(IsLockAcquisition);

    private static bool IsLockAcquisition(string frame) =>
        frame.StartsWith("System.Threading.Lock.", StringComparison.Ordinal) || frame.StartsWith("System.Threading.Monitor.Enter", StringComparison.Ordinal)
        || frame.StartsWith("System.Threading.Monitor.ReliableEnter", StringComparison.Ordinal);

    private void Start()
    {
        var session = WaitContextSession.TryStart(_processId, _mainClock, _sink, out var problem);
        bool started;
        lock (_lock)
        {
            started = session is not null && !_disposed;
            if (started)
            {
                _session = session;
                _stopTimer = _time.CreateTimer(_ => Stop(), null, BurstLength, Timeout.InfiniteTimeSpan);
            }
            else
            {
                _running = false;
                _nextStartAllowed = _time.GetTimestamp() + (long)(Pause.TotalSeconds * _time.TimestampFrequency);
            }
        }

        if (!started)
        {
            session?.Dispose();
        }

        // Said once the state is settled: a reader of the log may act on it at once.
        if (problem is not null)
        {
            _log.WriteLine(problem);
        }

        if (started)
        {
            _log.WriteLine($"loopdoctor: pool threads block: reading task events and request markers for {BurstLength.TotalSeconds:0} s to name what they wait for and the endpoints they serve.");
        }
    }

    private void Stop()
    {
        WaitContextSession? session;
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
    private WaitContextSession? TakeSession()
    {
        var session = _session;
        _session = null;
        _stopTimer?.Dispose();
        _stopTimer = null;
        return session;
    }

    private static async Task StopSessionAsync(WaitContextSession session)
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
        WaitContextSession? session;
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
        WaitContextSession? session;
        lock (_lock)
        {
            _disposed = true;
            session = TakeSession();
        }

        session?.Dispose();
    }
}
