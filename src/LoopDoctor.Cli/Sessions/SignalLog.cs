using System.Runtime.InteropServices;
using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Sessions;

/// <summary>
/// The signals of a trace file in arrival order, held until its stacks can be named (the rundown that names them is at
/// the end of the file) and then replayed into the pipeline. Sample-profiler samples are ~99% of a trace's events, so
/// they are kept as 16-byte entries (time, thread, stack id, kind) rather than objects; the rare other signals as
/// objects, referenced from the same sequence so the order is kept.
/// </summary>
internal sealed class SignalLog
{
    private const int ChunkSize = 1 << 16; // 1 MB chunks: no large copies as the log grows

    private readonly List<Entry[]> _chunks = [];
    private readonly List<Signal> _signals = [];
    private int _inLastChunk = ChunkSize;

    public long Count { get; private set; }

    public long SampleCount { get; private set; }

    public void Add(Signal signal)
    {
        _signals.Add(signal);
        Append(new Entry(signal.TimestampMs, signal.ThreadId, ~(_signals.Count - 1)));
    }

    public void AddSample(double timestampMs, int threadId, SampleKind kind, int stackId)
    {
        SampleCount++;
        Append(new Entry(timestampMs, threadId, (stackId << 1) | (kind == SampleKind.Managed ? 1 : 0)));
    }

    /// <summary>Feeds every signal, in the order it arrived, to <paramref name="sink"/>; samples get their (by now resolved) stacks.</summary>
    public void Replay(Action<Signal> sink, StackInterner stacks)
    {
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
                    sink(new StackSample(entry.TimestampMs, entry.ThreadId, kind, stacks[entry.Payload >> 1]));
                }
            }
        }
    }

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
    private readonly record struct Entry(double TimestampMs, int ThreadId, int Payload);
}
