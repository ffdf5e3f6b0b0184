using LoopDoctor.Cli.Sources.Decoders;
using LoopDoctor.Cli.Signals;
using Microsoft.Diagnostics.Tracing;

namespace LoopDoctor.Cli.Sources;

/// <summary>
/// Signals of a trace read in one pass, held in <paramref name="log"/> until the rundown at the end of the file names
/// their stacks; samples are kept as the event record's return addresses, interned in <paramref name="stacks"/>.
/// </summary>
internal sealed class SignalLogSink(SignalLog log, StackInterner stacks) : ISignalSink
{
    public void Add(Signal signal) => log.Add(signal);

    public void AddSample(TraceEvent sample, SampleKind kind) =>
        log.AddSample(sample.TimeStampRelativeMSec, sample.ThreadID, kind, TraceEventInternals.StackAddressesOf(sample), stacks);
}
