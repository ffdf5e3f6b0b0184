using LoopDoctor.Cli.Sources.Decoders;
using LoopDoctor.Cli.Sources.Stacks;
using LoopDoctor.Cli.Signals;
using Microsoft.Diagnostics.Tracing;

namespace LoopDoctor.Cli.Sources;

/// <summary>
/// Signals straight to <paramref name="sink"/> as they are decoded (a live session, or a trace TraceLog converted);
/// samples, with stacks from <paramref name="stacks"/>, arrive as runs (<see cref="SampleRunCollapser"/>).
/// </summary>
internal sealed class StreamingSignalSink(Action<Signal> sink, IStackResolver stacks) : ISignalSink
{
    private readonly SampleRunCollapser _runs = new(sink);

    public void Add(Signal signal)
    {
        if (signal.ThreadId != 0)
        {
            _runs.End(signal.ThreadId);
        }

        sink(signal);
    }

    public void AddSample(TraceEvent sample, SampleKind kind) =>
        _runs.Add(sample.TimeStampRelativeMSec, sample.ThreadID, kind, stacks.StackOf(sample));

    /// <summary>Emits the samples still held in open runs (the source has ended).</summary>
    public void Flush() => _runs.Flush();
}
