using System.Runtime.InteropServices;
using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Sources;

/// <summary>
/// The signals of a trace file in arrival order, held until its stacks can be named (the rundown that names them is at
/// the end of the file) and then replayed into the pipeline. Sample-profiler samples are ~99% of a trace's events, so
/// they are kept as 28-byte entries (time, thread, stack id, kind, run length) rather than objects, and consecutive
/// identical samples of a thread with nothing else of that thread in between are one entry (a run of
/// <see cref="SampleRuns{TSample,TStack}"/>, uncut: nothing reads them before the end). The rare other signals are
/// kept as objects, referenced from the same sequence so the order is kept.
/// </summary>
internal sealed class SignalLog : ISampleRunSink<int>
{
    private const int ChunkSize = 1 << 16; // ~2 MB chunks: no large copies as the log grows

    private readonly List<Entry[]> _chunks = [];
    private readonly List<Signal> _signals = [];
    private SampleRuns<ReadOnlySpan<ulong>, int>? _runs;
    private int _inLastChunk = ChunkSize;

    /// <summary>Entries held (signals plus runs of samples).</summary>
    public long Count { get; private set; }

    /// <summary>Samples seen (each run counts its samples).</summary>
    public long SampleCount { get; private set; }

    /// <summary>The timestamp of the latest signal or sample added.</summary>
    public double LastTimestampMs { get; private set; }

    public void Add(Signal signal)
    {
        if (signal.ThreadId != 0)
        {
            _runs?.End(signal.ThreadId);
        }

        LastTimestampMs = signal.TimestampMs;
        _signals.Add(signal);
        Append(new Entry(signal.TimestampMs, signal.TimestampMs, signal.ThreadId, ~(_signals.Count - 1), 1));
    }

    /// <summary>A sample of <paramref name="addresses"/> (interned in <paramref name="stacks"/>, the same every call): extends the thread's run or starts one.</summary>
    public void AddSample(double timestampMs, int threadId, SampleKind kind, ReadOnlySpan<ulong> addresses, StackInterner stacks)
    {
        SampleCount++;
        LastTimestampMs = timestampMs;
        _runs ??= new SampleRuns<ReadOnlySpan<ulong>, int>(stacks, this, longestRunMs: double.PositiveInfinity);
        _runs.Add(timestampMs, threadId, kind, addresses);
    }

    // A run's entry is placed when it opens (its place in arrival order) and completed when it closes.
    long ISampleRunSink<int>.Opened(int threadId, in SampleRun<int> run)
    {
        var index = Count;
        var managed = run.Kind == SampleKind.Managed ? 1 : 0;
        Append(new Entry(run.FirstMs, run.LastMs, threadId, (run.Stack << 1) | managed, run.Count));
        return index;
    }

    void ISampleRunSink<int>.Closed(int threadId, in SampleRun<int> run)
    {
        ref var entry = ref EntryAt(run.Slot);
        entry.Count = run.Count;
        entry.LastTimestampMs = run.LastMs;
    }

    /// <summary>Feeds every signal, in the order it arrived, to <paramref name="sink"/>; samples get their (by now resolved) stacks.</summary>
    public void Replay(Action<Signal> sink, StackInterner stacks)
    {
        _runs?.Flush();
        long left = Count;
        foreach (var chunk in _chunks)
        {
            var entries = chunk.AsSpan(0, (int)Math.Min(left, ChunkSize));
            left -= entries.Length;
            foreach (ref readonly var entry in entries)
            {
                if (entry.Payload < 0)
                {
                    sink(_signals[~entry.Payload]);
                }
                else
                {
                    var kind = (entry.Payload & 1) == 1 ? SampleKind.Managed : SampleKind.External;
                    sink(new StackSample(entry.TimestampMs, entry.ThreadId, kind, stacks[entry.Payload >> 1])
                    {
                        Count = entry.Count,
                        LastTimestampMs = entry.LastTimestampMs,
                    });
                }
            }
        }
    }

    private ref Entry EntryAt(long index) => ref _chunks[(int)(index / ChunkSize)][index % ChunkSize];

    private void Append(in Entry entry)
    {
        if (_inLastChunk == ChunkSize)
        {
            _chunks.Add(new Entry[ChunkSize]);
            _inLastChunk = 0;
        }

        _chunks[^1][_inLastChunk++] = entry;
        Count++;
    }

    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    private record struct Entry(double TimestampMs, double LastTimestampMs, int ThreadId, int Payload, int Count);
}
