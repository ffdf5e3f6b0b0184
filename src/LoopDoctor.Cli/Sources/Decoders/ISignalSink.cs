using LoopDoctor.Cli.Signals;
using Microsoft.Diagnostics.Tracing;

namespace LoopDoctor.Cli.Sources.Decoders;

/// <summary>
/// Where the decoders put what they decode, in arrival order. Samples are handed over as events because they are kept
/// as runs in the form the source allows: resolved <see cref="StackSample"/>s live (<see cref="StreamingSignalSink"/>),
/// interned addresses when a file is read in one pass (<see cref="SignalLogSink"/>).
/// </summary>
internal interface ISignalSink
{
    /// <summary>A signal; it ends its thread's open run of samples first, so detectors see a thread's signals in order.</summary>
    void Add(Signal signal);

    /// <summary>A sample-profiler sample of <paramref name="sample"/>'s thread and stack.</summary>
    void AddSample(TraceEvent sample, SampleKind kind);
}
