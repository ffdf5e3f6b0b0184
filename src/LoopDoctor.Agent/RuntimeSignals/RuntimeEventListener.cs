using System.Diagnostics.Tracing;
using LoopDoctor.Agent.Metrics;

namespace LoopDoctor.Agent.RuntimeSignals;

/// <summary>
/// Listens, in process, to the runtime's own events (<c>Microsoft-Windows-DotNETRuntime</c>) and turns them into the
/// LoopDoctor meter's thread-injection, blocking-wait and lock-contention instruments, plus a few cheap facts
/// (<see cref="StarvationInjections"/>, <see cref="LastStarvationInjection"/>) for health checks.
/// Enables only the keywords the options ask for; never throws from the event callback.
/// </summary>
/// <remarks>
/// Keywords and levels (measured on .NET 10, see docs: https://learn.microsoft.com/dotnet/fundamentals/diagnostics/runtime-events):
/// Threading 0x10000 (Informational) → ThreadPoolWorkerThreadAdjustment/Adjustment and worker Start/Wait/Stop;
/// WaitHandle 0x40000000000 (Verbose only) → WaitHandleWaitStart/Stop; Contention 0x4000 (Informational) → ContentionStop.
/// Runtime events arrive on one EventPipe dispatch thread, so <see cref="EventWrittenEventArgs.OSThreadId"/> (not the
/// current thread) identifies the thread that waited. Verbose with the Threading keyword brings no per-work-item
/// events: measured, 20 000 work items deliver none (not even with ThreadTransfer 0x80000000 on, which we never enable);
/// what arrives is a few dozen events per second of pool activity plus two per blocking wait.
/// </remarks>
internal sealed class RuntimeEventListener : EventListener
{
    private const EventKeywords ContentionKeyword = (EventKeywords)RuntimeKeywords.Contention;
    private const EventKeywords ThreadingKeyword = (EventKeywords)RuntimeKeywords.Threading;
    private const EventKeywords WaitHandleKeyword = (EventKeywords)RuntimeKeywords.WaitHandle;

    internal const uint StarvationReason = (uint)ThreadPoolAdjustmentReason.Starvation;
    internal const uint CooperativeBlockingReason = (uint)ThreadPoolAdjustmentReason.CooperativeBlocking;

    // Two locks on purpose: OnEventSourceCreated runs under the runtime's global EventListener lock, and recording a
    // measurement may create an EventSource (taking that lock) from inside OnEventWritten. Sharing one lock could deadlock.
    private readonly Lock _sourcesLock = new();
    private readonly Lock _stateLock = new();

    // Initialised before the base constructor runs (field initialisers do), unlike the fields set in our constructor
    // body: EventListener's constructor calls OnEventSourceCreated for every existing source first.
    private readonly List<EventSource> _sourcesSeenEarly = [];
    private volatile bool _constructed;

    private readonly LoopDoctorOptions _options = null!;
    private readonly LoopDoctorInstruments _instruments = null!;
    private readonly TimeProvider _timeProvider = null!;
    private readonly PoolThreadWaitTracker _waits = null!;
    private volatile EventSource? _runtimeSource;
    private volatile bool _disposed;

    // Payload positions, resolved once per event id from PayloadNames (-2 = not resolved yet, -1 = absent).
    private int _adjustmentNewCountIndex = -2, _adjustmentReasonIndex = -2;
    private int _waitSourceIndex = -2;
    private int _contentionFlagsIndex = -2, _contentionDurationIndex = -2;

    private long _previousThreadGoal = -1;
    private long _starvationInjections;
    private long _lastStarvationInjectionUtcTicks;
    private long _threadsInjected, _blockingWaits, _lockContentions, _eventErrors, _eventsReceived;

    public RuntimeEventListener(LoopDoctorOptions options, LoopDoctorInstruments instruments, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(instruments);
        _options = options;
        _instruments = instruments;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _waits = new PoolThreadWaitTracker(RecordPoolWait);

        EventSource[] early;
        lock (_sourcesLock)
        {
            _constructed = true;
            early = [.. _sourcesSeenEarly];
            _sourcesSeenEarly.Clear();
        }

        foreach (var source in early)
        {
            EnableIfRuntime(source);
        }
    }

    /// <summary>The keywords this listener asks the runtime for (0 when every runtime signal is switched off).</summary>
    public EventKeywords Keywords => KeywordsFor(_options);

    /// <summary>Thread-pool threads added for <c>starvation</c> or <c>cooperative_blocking</c> since start.</summary>
    public long StarvationInjections => Interlocked.Read(ref _starvationInjections);

    /// <summary>When (per the TimeProvider) the last starvation/cooperative-blocking injection was seen, or null.</summary>
    public DateTimeOffset? LastStarvationInjection
    {
        get
        {
            var ticks = Interlocked.Read(ref _lastStarvationInjectionUtcTicks);
            return ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
        }
    }

    /// <summary>Threads added by the pool for any reason since start.</summary>
    public long ThreadsInjected => Interlocked.Read(ref _threadsInjected);

    /// <summary>Blocking waits counted on pool threads since start.</summary>
    public long BlockingWaits => Interlocked.Read(ref _blockingWaits);

    /// <summary>Contended lock acquisitions since start.</summary>
    public long LockContentions => Interlocked.Read(ref _lockContentions);

    /// <summary>Runtime events delivered to this listener (any id): the volume the enabled keywords cost.</summary>
    public long EventsReceived => Interlocked.Read(ref _eventsReceived);

    /// <summary>Events whose handling failed (swallowed so the host never sees it).</summary>
    public long EventErrors => Interlocked.Read(ref _eventErrors);

    internal static EventKeywords KeywordsFor(LoopDoctorOptions options)
    {
        EventKeywords keywords = 0;
        if (options.CaptureThreadInjections || options.CaptureBlockingWaits)
        {
            keywords |= ThreadingKeyword; // blocking waits need the worker Start/Wait/Stop events to know pool threads
        }

        if (options.CaptureBlockingWaits)
        {
            keywords |= WaitHandleKeyword;
        }

        if (options.CaptureLockContention)
        {
            keywords |= ContentionKeyword;
        }

        return keywords;
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        lock (_sourcesLock)
        {
            if (!_constructed)
            {
                _sourcesSeenEarly.Add(eventSource);
                return;
            }
        }

        EnableIfRuntime(eventSource);
    }

    private void EnableIfRuntime(EventSource source)
    {
        if (_disposed || source.Name != RuntimeKeywords.ProviderName)
        {
            return;
        }

        var keywords = KeywordsFor(_options);
        if (keywords == 0)
        {
            return;
        }

        // WaitHandleWaitStart/Stop are Verbose; everything else we need is Informational.
        var level = _options.CaptureBlockingWaits ? EventLevel.Verbose : EventLevel.Informational;
        _runtimeSource = source;
        EnableEvents(source, level, keywords);
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        // Only the runtime's events: the ids below mean nothing for other sources (e.g. EventSourceMessage, id 0).
        if (_disposed || !ReferenceEquals(eventData.EventSource, _runtimeSource))
        {
            return;
        }

        try
        {
            // Runtime events come from one dispatch thread; the lock only covers a session restart overlapping it.
            lock (_stateLock)
            {
                _eventsReceived++;
                Dispatch(eventData);
            }
        }
        catch (Exception)
        {
            // A malformed payload (another runtime version) must not reach the host; count it instead.
            Interlocked.Increment(ref _eventErrors);
        }
    }

    private void Dispatch(EventWrittenEventArgs e)
    {
        switch (e.EventId)
        {
            case RuntimeKeywords.ThreadPoolWorkerThreadStartId:
            case RuntimeKeywords.ThreadPoolWorkerThreadWaitId:
                _waits.WorkerSeen(e.OSThreadId);
                break;
            case RuntimeKeywords.ThreadPoolWorkerThreadStopId:
                _waits.WorkerStopped(e.OSThreadId);
                break;
            case RuntimeKeywords.ThreadPoolWorkerThreadAdjustmentId when _options.CaptureThreadInjections:
                ResolveOnce(e, ref _adjustmentNewCountIndex, "NewWorkerThreadCount");
                ResolveOnce(e, ref _adjustmentReasonIndex, "Reason");
                if (_adjustmentNewCountIndex >= 0 && _adjustmentReasonIndex >= 0)
                {
                    var payload = e.Payload!;
                    HandleAdjustment(Convert.ToInt64(payload[_adjustmentNewCountIndex]), Convert.ToUInt32(payload[_adjustmentReasonIndex]));
                }

                break;
            case RuntimeKeywords.WaitHandleWaitStartId when _options.CaptureBlockingWaits:
                ResolveOnce(e, ref _waitSourceIndex, "WaitSource");
                var source = _waitSourceIndex >= 0 ? Convert.ToInt32(e.Payload![_waitSourceIndex]) : 0;
                _waits.WaitStarted(e.OSThreadId, e.TimeStamp.Ticks, source);
                break;
            case RuntimeKeywords.WaitHandleWaitStopId when _options.CaptureBlockingWaits:
                _waits.WaitStopped(e.OSThreadId, e.TimeStamp.Ticks);
                break;
            case RuntimeKeywords.ContentionStopId when _options.CaptureLockContention:
                ResolveOnce(e, ref _contentionFlagsIndex, "ContentionFlags");
                ResolveOnce(e, ref _contentionDurationIndex, "DurationNs");
                var flags = _contentionFlagsIndex >= 0 ? Convert.ToInt32(e.Payload![_contentionFlagsIndex]) : 0;
                var durationNs = _contentionDurationIndex >= 0 ? Convert.ToDouble(e.Payload![_contentionDurationIndex]) : double.NaN;
                HandleContention(flags, durationNs);
                break;
        }
    }

    private static void ResolveOnce(EventWrittenEventArgs e, ref int index, string name)
    {
        if (index == -2)
        {
            index = e.PayloadNames?.IndexOf(name) ?? -1;
        }
    }

    /// <summary>One ThreadPoolWorkerThreadAdjustment/Adjustment: counts only moves that raise the thread goal.</summary>
    internal void HandleAdjustment(long newWorkerThreadCount, uint reason)
    {
        long added;
        if (_previousThreadGoal < 0)
        {
            // No baseline yet: only a starvation move is known to be +1 (the gate thread adds exactly one thread).
            added = reason == StarvationReason ? 1 : 0;
        }
        else
        {
            added = Math.Max(0, newWorkerThreadCount - _previousThreadGoal);
        }

        _previousThreadGoal = newWorkerThreadCount;
        if (added == 0)
        {
            return;
        }

        // Facts first, then the instrument: whoever sees the measurement also sees the facts.
        Interlocked.Add(ref _threadsInjected, added);
        if (reason is StarvationReason or CooperativeBlockingReason)
        {
            Interlocked.Exchange(ref _lastStarvationInjectionUtcTicks, _timeProvider.GetUtcNow().UtcTicks);
            Interlocked.Add(ref _starvationInjections, added);
        }

        _instruments.ThreadInjections.Add(added, new KeyValuePair<string, object?>("reason", ReasonName(reason)));
    }

    /// <summary>The reason as a metric label value.</summary>
    internal static string ReasonName(uint reason) => (ThreadPoolAdjustmentReason)reason switch
    {
        ThreadPoolAdjustmentReason.Warmup => "warmup",
        ThreadPoolAdjustmentReason.Initializing => "initializing",
        ThreadPoolAdjustmentReason.RandomMove => "random_move",
        ThreadPoolAdjustmentReason.ClimbingMove => "climbing_move",
        ThreadPoolAdjustmentReason.ChangePoint => "change_point",
        ThreadPoolAdjustmentReason.Stabilizing => "stabilizing",
        ThreadPoolAdjustmentReason.Starvation => "starvation",
        ThreadPoolAdjustmentReason.ThreadTimedOut => "thread_timed_out",
        ThreadPoolAdjustmentReason.CooperativeBlocking => "cooperative_blocking",
        _ => "unknown",
    };

    internal static string WaitSourceName(int waitSource) => waitSource switch
    {
        0 => "unknown",
        1 => "monitor_wait",
        _ => "other",
    };

    /// <summary>One ContentionStop: only managed (Monitor / System.Threading.Lock) contention, flags 0.</summary>
    internal void HandleContention(int contentionFlags, double durationNs)
    {
        if (contentionFlags != 0)
        {
            return; // 1 = native runtime lock, not the app's
        }

        Interlocked.Increment(ref _lockContentions);
        _instruments.LockContentions.Add(1);
        if (!double.IsNaN(durationNs))
        {
            _instruments.LockContentionDuration.Record(durationNs / 1e9);
        }
    }

    private void RecordPoolWait(double seconds, int waitSource)
    {
        Interlocked.Increment(ref _blockingWaits);
        var tag = new KeyValuePair<string, object?>("wait.source", WaitSourceName(waitSource));
        _instruments.BlockingWaits.Add(1, tag);
        _instruments.BlockingWaitDuration.Record(seconds, tag);
    }

    /// <summary>Test and benchmark entry points into the wait pairing (the listener's dispatch calls these too).</summary>
    internal PoolThreadWaitTracker WaitTracker => _waits;

    public override void Dispose()
    {
        _disposed = true;
        base.Dispose();
    }
}
