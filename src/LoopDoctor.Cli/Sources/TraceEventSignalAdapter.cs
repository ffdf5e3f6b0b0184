using LoopDoctor.Cli.Sources.Decoders;
using LoopDoctor.Cli.Sources.Stacks;
using LoopDoctor.Cli.Signals;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Etlx;

namespace LoopDoctor.Cli.Sources;

/// <summary>
/// Turns a TraceEvent source into <see cref="Signal"/>s: one decoder per provider (<see cref="RuntimeEventDecoder"/>,
/// <see cref="SampleProfilerDecoder"/>, <see cref="MetricsEventDecoder"/>, <see cref="AgentEventDecoder"/>) writing
/// into one <see cref="ISignalSink"/>, with stacks from one <see cref="IStackResolver"/>. Live, or from a trace TraceLog
/// converted, stacks are named as events arrive and samples reach the sink as runs; a trace read in one pass keeps
/// them as addresses in a <see cref="SignalLog"/> (<see cref="ForRecordedTrace"/>).
/// </summary>
internal sealed class TraceEventSignalAdapter
{
    private readonly StreamingSignalSink? _streaming;
    private readonly TraceLogStackResolver? _traceLogStacks;

    /// <summary>
    /// A live TraceLog session (or a trace TraceLog converted): signals go to <paramref name="sink"/>, consecutive
    /// identical samples of a thread as one run; call <see cref="FlushSamples"/> when the source is done.
    /// </summary>
    /// <param name="metricsSessionId">The Metrics provider's SessionId for this session (<see cref="SessionProviders.Create"/>);
    /// null keeps every session's metric values.</param>
    public TraceEventSignalAdapter(TraceLogEventSource source, Action<Signal> sink, string? metricsSessionId = null)
    {
        _traceLogStacks = new TraceLogStackResolver();
        _streaming = new StreamingSignalSink(sink, _traceLogStacks);
        AttachDecoders(source, _streaming, _traceLogStacks, metricsSessionId);
    }

    private TraceEventSignalAdapter(TraceEventDispatcher source, SignalLog log, StackInterner stacks) =>
        AttachDecoders(source, new SignalLogSink(log, stacks), new RecordedStackResolver(stacks), metricsSessionId: null);

    /// <summary>
    /// A .nettrace file read in one pass: signals go to <paramref name="log"/>, stacks are interned as addresses in
    /// <paramref name="stacks"/> and named once the rundown at the end of the file has been read.
    /// Needs <see cref="TraceEventInternals.CanReadStackAddresses"/>.
    /// </summary>
    public static TraceEventSignalAdapter ForRecordedTrace(TraceEventDispatcher source, SignalLog log, StackInterner stacks) => new(source, log, stacks);

    /// <summary>How many times the live TraceLog's interned stacks were dropped (once a second of trace time).</summary>
    public int StackTrims => _traceLogStacks?.StackTrims ?? 0;

    /// <summary>Emits the samples still held in open runs (the source has ended). Call on the thread that ran the source.</summary>
    public void FlushSamples() => _streaming?.Flush();

    private static void AttachDecoders(TraceEventDispatcher source, ISignalSink sink, IStackResolver stacks, string? metricsSessionId)
    {
        RuntimeEventDecoder.Attach(source, sink, stacks);
        GcEventDecoder.Attach(source, sink, stacks);
        LockOwnerDecoder.Attach(source, sink);
        SampleProfilerDecoder.Attach(source, sink);
        var metrics = new MetricsEventDecoder(sink, metricsSessionId);
        var agent = new AgentEventDecoder(sink);
        var requests = new DiagnosticSourceDecoder(sink);
        var tasks = new TaskEventDecoder(sink);
        // TraceEvent has no parser for these providers: one handler tests each event against them, once.
        source.AllEvents += e =>
        {
            if (MetricsEventDecoder.Owns(e))
            {
                metrics.Decode(e);
            }
            else if (AgentEventDecoder.Owns(e))
            {
                agent.Decode(e);
            }
            else if (DiagnosticSourceDecoder.Owns(e))
            {
                requests.Decode(e);
            }
            else if (TaskEventDecoder.Owns(e))
            {
                tasks.Decode(e); // a recording that holds them (a live session reads them in WaitContextSession)
            }
        };
    }
}
