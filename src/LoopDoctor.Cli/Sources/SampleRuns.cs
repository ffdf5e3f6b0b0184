using System.Runtime.InteropServices;
using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Sources;

/// <summary>A thread's run of consecutive samples with the same kind and stack.</summary>
internal struct SampleRun<TStack>
{
    public double FirstMs;
    public double LastMs;
    public int Count;
    public SampleKind Kind;
    public TStack Stack;

    /// <summary>Where the sink keeps the run (<see cref="ISampleRunSink{TStack}.Opened"/>).</summary>
    public long Slot;
}

/// <summary>How runs compare a sample's stack with their own and what they keep of it (frames live, an interned id offline).</summary>
internal interface ISampleRunStacks<TSample, TStack>
    where TSample : allows ref struct
{
    bool IsSameStack(TStack runStack, TSample sample);

    TStack Keep(TSample sample);
}

/// <summary>Where runs go as they open and close.</summary>
internal interface ISampleRunSink<TStack>
{
    /// <summary>A run started; returns where the sink keeps it (the offline log places it in arrival order now).</summary>
    long Opened(int threadId, in SampleRun<TStack> run);

    /// <summary>The run is complete: <see cref="SampleRun{TStack}.Count"/> and <see cref="SampleRun{TStack}.LastMs"/> are final.</summary>
    void Closed(int threadId, in SampleRun<TStack> run);
}

/// <summary>
/// The one sample-run collapser, live and offline: consecutive samples of a thread with the same kind and stack, with
/// nothing else of that thread in between, are one run (the sample profiler reports every managed thread about every
/// millisecond, and an idle or parked thread's stack repeats for minutes). With a finite longest run, runs are cut at
/// that length and runs of threads that went quiet are closed by a sweep, so a live reader hears of a stuck thread.
/// Not thread-safe: one reader thread.
/// </summary>
internal sealed class SampleRuns<TSample, TStack>(ISampleRunStacks<TSample, TStack> stacks, ISampleRunSink<TStack> sink, double longestRunMs)
    where TSample : allows ref struct
{
    private readonly Dictionary<int, SampleRun<TStack>> _open = [];
    private readonly bool _sweeps = double.IsFinite(longestRunMs);
    private double _lastSweepMs = double.NegativeInfinity;

    /// <summary>Extends the thread's open run with this sample, or closes it and opens another.</summary>
    public void Add(double timestampMs, int threadId, SampleKind kind, TSample sample)
    {
        ref var run = ref CollectionsMarshal.GetValueRefOrAddDefault(_open, threadId, out var exists);
        if (exists && run.Kind == kind && timestampMs - run.FirstMs < longestRunMs && stacks.IsSameStack(run.Stack, sample))
        {
            run.LastMs = timestampMs;
            run.Count++;
        }
        else
        {
            if (exists)
            {
                sink.Closed(threadId, run);
            }

            run = new SampleRun<TStack> { FirstMs = timestampMs, LastMs = timestampMs, Count = 1, Kind = kind, Stack = stacks.Keep(sample) };
            run.Slot = sink.Opened(threadId, run);
        }

        if (_sweeps && timestampMs - _lastSweepMs >= longestRunMs)
        {
            Sweep(timestampMs);
        }
    }

    /// <summary>Closes the thread's open run: another signal of the thread ends it, so detectors see them in order.</summary>
    public void End(int threadId)
    {
        if (_open.Remove(threadId, out var run))
        {
            sink.Closed(threadId, run);
        }
    }

    /// <summary>Closes every open run (the source ended).</summary>
    public void Flush()
    {
        foreach (var (threadId, run) in _open)
        {
            sink.Closed(threadId, run);
        }

        _open.Clear();
    }

    // A thread that stopped being sampled (it exited, or the profiler skipped it) would hold its run forever.
    private void Sweep(double nowMs)
    {
        _lastSweepMs = nowMs;
        List<int>? quiet = null;
        foreach (var (threadId, run) in _open)
        {
            if (nowMs - run.LastMs >= longestRunMs)
            {
                sink.Closed(threadId, run);
                (quiet ??= []).Add(threadId);
            }
        }

        if (quiet is not null)
        {
            foreach (var threadId in quiet)
            {
                _open.Remove(threadId);
            }
        }
    }
}
