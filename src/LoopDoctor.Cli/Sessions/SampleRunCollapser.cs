using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Sessions;

/// <summary>
/// The live twin of <see cref="SignalLog"/>'s runs: consecutive identical samples of one thread become one
/// <see cref="StackSample"/> with a <see cref="StackSample.Count"/>. The sample profiler reports every managed thread
/// about every millisecond, and a starving pool is hundreds of threads parked in the same wait: measured on BlockingApp
/// under sync-over-async (600 threads), one object per sample was a third of the CLI's allocation and what pushed its
/// heap up (docs/benchmarks.md P7). A run is cut at <see cref="MaxRunMs"/> so detectors still hear about a thread
/// stuck for minutes, and runs of threads that went quiet are emitted by a sweep. Not thread-safe: one reader thread.
/// </summary>
internal sealed class SampleRunCollapser(Action<StackSample> sink)
{
    /// <summary>The longest run emitted as one sample: bounds how late a detector hears of a thread (long-callback's threshold is 100 ms).</summary>
    public const double MaxRunMs = 250;

    private readonly Dictionary<int, Run> _runs = [];
    private double _lastSweepMs = double.NegativeInfinity;

    /// <summary>Samples added.</summary>
    public long SamplesIn { get; private set; }

    /// <summary>Signals emitted (runs).</summary>
    public long SamplesOut { get; private set; }

    public void Add(double timestampMs, int threadId, SampleKind kind, CallStack stack)
    {
        SamplesIn++;
        if (_runs.TryGetValue(threadId, out var run))
        {
            if (run.Kind == kind && timestampMs - run.FirstMs < MaxRunMs && SameStack(run.Stack, stack))
            {
                run.LastMs = timestampMs;
                run.Count++;
            }
            else
            {
                Emit(threadId, run);
                run.Start(timestampMs, kind, stack);
            }
        }
        else
        {
            var started = new Run();
            started.Start(timestampMs, kind, stack);
            _runs[threadId] = started;
        }

        if (timestampMs - _lastSweepMs >= MaxRunMs)
        {
            Sweep(timestampMs);
        }
    }

    /// <summary>Emits the thread's open run: another signal of the thread ends it, so detectors see them in order.</summary>
    public void End(int threadId)
    {
        if (_runs.Remove(threadId, out var run))
        {
            Emit(threadId, run);
        }
    }

    /// <summary>Emits every open run (the session ended).</summary>
    public void Flush()
    {
        foreach (var (threadId, run) in _runs)
        {
            Emit(threadId, run);
        }

        _runs.Clear();
    }

    // A thread that stopped being sampled (it exited, or the profiler skipped it) would hold its run forever.
    private void Sweep(double nowMs)
    {
        _lastSweepMs = nowMs;
        List<int>? quiet = null;
        foreach (var (threadId, run) in _runs)
        {
            if (nowMs - run.LastMs >= MaxRunMs)
            {
                Emit(threadId, run);
                (quiet ??= []).Add(threadId);
            }
        }

        if (quiet is not null)
        {
            foreach (var threadId in quiet)
            {
                _runs.Remove(threadId);
            }
        }
    }

    private void Emit(int threadId, Run run)
    {
        SamplesOut++;
        sink(new StackSample(run.FirstMs, threadId, run.Kind, run.Stack) { Count = run.Count, LastTimestampMs = run.LastMs });
    }

    // Stacks come from a cache that is renewed every second, so equal stacks are not always the same object.
    private static bool SameStack(CallStack a, CallStack b)
    {
        if (ReferenceEquals(a, b))
        {
            return true;
        }

        var x = a.Frames;
        var y = b.Frames;
        if (x.Count != y.Count)
        {
            return false;
        }

        for (var i = 0; i < x.Count; i++)
        {
            if (!string.Equals(x[i], y[i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    private sealed class Run
    {
        public double FirstMs;
        public double LastMs;
        public int Count;
        public SampleKind Kind;
        public CallStack Stack = CallStack.Empty;

        public void Start(double timestampMs, SampleKind kind, CallStack stack)
        {
            FirstMs = LastMs = timestampMs;
            Count = 1;
            Kind = kind;
            Stack = stack;
        }
    }
}
