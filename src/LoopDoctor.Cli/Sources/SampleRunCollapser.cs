using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Sources;

/// <summary>
/// Live sample runs (<see cref="SampleRuns{TSample,TStack}"/> over resolved stacks): consecutive identical samples of one
/// thread become one <see cref="StackSample"/> with a <see cref="StackSample.Count"/>, because a starving pool is hundreds
/// of threads parked in the same wait and one object per sample dominated the CLI's allocation (P7). A run is cut at
/// <see cref="MaxRunMs"/> so rules still hear about a thread stuck for minutes. Not thread-safe: one reader thread.
/// </summary>
internal sealed class SampleRunCollapser : ISampleRunStacks<CallStack, CallStack>, ISampleRunSink<CallStack>
{
    /// <summary>The longest run emitted as one sample: bounds how late a detector hears of a thread (long-callback's threshold is 100 ms).</summary>
    public const double MaxRunMs = 250;

    private readonly Action<StackSample> _sink;
    private readonly SampleRuns<CallStack, CallStack> _runs;

    public SampleRunCollapser(Action<StackSample> sink)
    {
        _sink = sink;
        _runs = new SampleRuns<CallStack, CallStack>(this, this, MaxRunMs);
    }

    /// <summary>Samples added.</summary>
    public long SamplesIn { get; private set; }

    /// <summary>Signals emitted (runs).</summary>
    public long SamplesOut { get; private set; }

    public void Add(double timestampMs, int threadId, SampleKind kind, CallStack stack)
    {
        SamplesIn++;
        _runs.Add(timestampMs, threadId, kind, stack);
    }

    /// <summary>Emits the thread's open run: another signal of the thread ends it, so detectors see them in order.</summary>
    public void End(int threadId) => _runs.End(threadId);

    /// <summary>Emits every open run (the session ended).</summary>
    public void Flush() => _runs.Flush();

    // Stacks come from a cache that is renewed every second, so equal stacks are not always the same object.
    bool ISampleRunStacks<CallStack, CallStack>.IsSameStack(CallStack runStack, CallStack sample)
    {
        if (ReferenceEquals(runStack, sample))
        {
            return true;
        }

        var x = runStack.Frames;
        var y = sample.Frames;
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

    CallStack ISampleRunStacks<CallStack, CallStack>.Keep(CallStack sample) => sample;

    long ISampleRunSink<CallStack>.Opened(int threadId, in SampleRun<CallStack> run) => 0;

    void ISampleRunSink<CallStack>.Closed(int threadId, in SampleRun<CallStack> run)
    {
        SamplesOut++;
        _sink(new StackSample(run.FirstMs, threadId, run.Kind, run.Stack) { Count = run.Count, LastTimestampMs = run.LastMs });
    }
}
