using System.Diagnostics;

namespace LoopDoctor.Agent.Probes;

/// <summary>
/// Owns the agent's one dedicated sampler thread ("LoopDoctor sampler", background) and ticks every registered
/// probe on it each <see cref="TickInterval"/>. A dedicated thread, not a thread-pool timer: counters driven by pool
/// timers went silent precisely while the pool starved (https://github.com/dotnet/diagnostics/issues/1718).
/// Between ticks the thread sleeps (at most 50 ms at a time, so Dispose returns within that). Ticks are scheduled
/// at fixed times (no drift); ticks missed while the thread itself was descheduled are skipped, not replayed.
/// A tick allocates nothing (the probe list is a copy-on-write array; a TaskScheduler probe allocates its Task).
/// </summary>
internal sealed class ProbeSampler : IDisposable
{
    public const string ThreadName = "LoopDoctor sampler";

    private readonly Lock _gate = new();
    // Longest single sleep: how long Dispose may wait for the thread to notice it is stopped.
    private const int MaxSleepMilliseconds = 50;

    private LagProbe[] _probes = [];
    private Thread? _thread;
    private long _tickCount;
    private long _tickErrors;
    private int _disposed;

    /// <param name="tickInterval">Time between ticks, and the sampling interval of queue probes (LoopDoctorOptions.ProbeInterval).</param>
    /// <param name="timeProvider">Clock for timestamps and window rotation (the tick wait itself is real time).</param>
    public ProbeSampler(TimeSpan tickInterval, TimeProvider? timeProvider = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tickInterval, TimeSpan.FromMilliseconds(1));
        TickInterval = tickInterval;
        TimeProvider = timeProvider ?? TimeProvider.System;
    }

    public TimeSpan TickInterval { get; }

    public TimeProvider TimeProvider { get; }

    /// <summary>The registered probes (a snapshot).</summary>
    public IReadOnlyList<LagProbe> Probes => Volatile.Read(ref _probes);

    /// <summary>The sampler thread once started (tests check its name and kind).</summary>
    internal Thread? Thread => _thread;

    /// <summary>Ticks completed so far.</summary>
    internal long TickCount => Interlocked.Read(ref _tickCount);

    /// <summary>Exceptions escaping a probe's tick (a bug if ever non-zero); counted, never rethrown.</summary>
    internal long TickErrors => Interlocked.Read(ref _tickErrors);

    /// <summary>Starts the sampler thread. Idempotent.</summary>
    public void Start()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            if (_thread is not null)
            {
                return;
            }

            _thread = new Thread(Run) { IsBackground = true, Name = ThreadName };
            _thread.UnsafeStart();  // no ExecutionContext from whoever started the agent
        }
    }

    /// <summary>Thread-pool queue-delay probe, sampling every <see cref="TickInterval"/>.</summary>
    public LagProbe AddThreadPoolProbe(string name = "thread-pool", LagProbeOutputs? outputs = null)
        => Add(new ThreadPoolLagProbe(name, TickInterval, outputs, TimeProvider));

    /// <summary>Timer-lag probe whose one-shot timer is armed for <paramref name="timerInterval"/> each time it fired.</summary>
    public LagProbe AddTimerProbe(TimeSpan timerInterval, string name = "timer", LagProbeOutputs? outputs = null)
        => Add(new TimerLagProbe(name, timerInterval, outputs, TimeProvider));

    /// <summary>Queue-delay probe of a <see cref="TaskScheduler"/> (one Task allocated per sample), every <see cref="TickInterval"/>.</summary>
    public LagProbe AddSchedulerProbe(TaskScheduler scheduler, string name, LagProbeOutputs? outputs = null)
        => Add(new SchedulerLagProbe(scheduler, name, TickInterval, outputs, TimeProvider));

    /// <summary>Queue-delay probe of a <see cref="SynchronizationContext"/> (allocation-free Post), every <see cref="TickInterval"/>.</summary>
    public LagProbe AddSynchronizationContextProbe(SynchronizationContext context, string name, LagProbeOutputs? outputs = null)
        => Add(new SchedulerLagProbe(context, name, TickInterval, outputs, TimeProvider));

    /// <summary>Ticks every probe once on the calling thread (tests, benchmarks).</summary>
    internal void TickOnce() => TickAll(TimeProvider.GetTimestamp());

    internal void Remove(LagProbe probe)
    {
        lock (_gate)
        {
            int index = Array.IndexOf(_probes, probe);
            if (index < 0)
            {
                return;
            }

            var next = new LagProbe[_probes.Length - 1];
            Array.Copy(_probes, 0, next, 0, index);
            Array.Copy(_probes, index + 1, next, index, _probes.Length - index - 1);
            Volatile.Write(ref _probes, next);
        }
    }

    private LagProbe Add(LagProbe probe)
    {
        lock (_gate)
        {
            if (_disposed != 0)
            {
                probe.Dispose();
                throw new ObjectDisposedException(nameof(ProbeSampler));
            }

            foreach (var existing in _probes)
            {
                if (string.Equals(existing.Name, probe.Name, StringComparison.Ordinal))
                {
                    probe.Dispose();
                    throw new ArgumentException($"A LoopDoctor probe named '{probe.Name}' is already registered; probe names must be unique.", "name");
                }
            }

            probe.AttachTo(this);
            Volatile.Write(ref _probes, [.. _probes, probe]);
            return probe;
        }
    }

    private void TickAll(long now)
    {
        var probes = Volatile.Read(ref _probes);
        for (int i = 0; i < probes.Length; i++)
        {
            try
            {
                probes[i].Tick(now);
            }
            catch (Exception)
            {
                Interlocked.Increment(ref _tickErrors);
            }
        }

        Interlocked.Increment(ref _tickCount);
    }

    private void Run()
    {
        long intervalTicks = Math.Max(1, (long)(TickInterval.Ticks * (Stopwatch.Frequency / (double)TimeSpan.TicksPerSecond)));
        long next = Stopwatch.GetTimestamp() + intervalTicks;
        while (Volatile.Read(ref _disposed) == 0)
        {
            long wait = next - Stopwatch.GetTimestamp();
            if (wait > 0)
            {
                // Thread.Sleep, not a wait on a handle: the runtime reports every handle or Monitor wait as a
                // WaitHandleWaitStart/Stop pair (.NET 9+), to the agent's own listener and to any attached tool.
                int waitMilliseconds = (int)Math.Ceiling(wait * 1000.0 / Stopwatch.Frequency);
                Thread.Sleep(Math.Min(waitMilliseconds, MaxSleepMilliseconds));
                continue;  // woke early (timeout granularity, or a slice of a long interval): wait for the rest
            }

            long current = Stopwatch.GetTimestamp();
            TickAll(TimeProvider.GetTimestamp());
            next += intervalTicks;
            if (next <= current)
            {
                next = current + intervalTicks;  // this thread was held up: skip the missed ticks
            }
        }
    }

    /// <summary>Stops and joins the sampler thread, then disposes every probe. Idempotent.</summary>
    public void Dispose()
    {
        Thread? thread;
        LagProbe[] probes;
        lock (_gate)
        {
            if (_disposed != 0)
            {
                return;
            }

            _disposed = 1;
            thread = _thread;
            probes = _probes;
        }

        if (thread is not null && thread != Thread.CurrentThread)
        {
            thread.Join(TimeSpan.FromSeconds(5));
        }

        foreach (var probe in probes)
        {
            probe.Dispose();
        }
    }
}
