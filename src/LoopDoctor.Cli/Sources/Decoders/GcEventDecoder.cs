using LoopDoctor.Cli.Signals;
using LoopDoctor.Cli.Sources.Stacks;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace LoopDoctor.Cli.Sources.Decoders;

/// <summary>
/// The runtime's GC events (keyword GC): pauses, the collections inside them, and allocation samples. The runtime also
/// suspends threads for other reasons (the sample profiler ~1000 times a second, the debugger), so only suspensions
/// for a GC become pauses.
/// </summary>
internal static class GcEventDecoder
{
    public static void Attach(TraceEventDispatcher source, ISignalSink sink, IStackResolver stacks)
    {
        var clr = source.Clr;
        // GCStart is raised with the threads suspended, where no stack is walked; GCTriggered, just before, on the thread
        // that asked for the collection, carries its stack.
        var triggeredBy = CallStack.Empty;
        clr.GCTriggered += e => triggeredBy = IsInduced(e.Reason) ? stacks.StackOf(e) : CallStack.Empty;
        clr.GCStart += e =>
        {
            sink.Add(new GcStarted(e.TimeStampRelativeMSec, e.ThreadID, e.Count, e.Depth, (GcReason)(int)e.Reason, (GcType)(int)e.Type,
                IsInduced(e.Reason) ? triggeredBy : CallStack.Empty));
            triggeredBy = CallStack.Empty;
        };
        clr.GCSuspendEEStart += e =>
        {
            if (e.Reason is GCSuspendEEReason.SuspendForGC or GCSuspendEEReason.SuspendForGCPrep)
            {
                sink.Add(new GcSuspensionStarted(e.TimeStampRelativeMSec, e.ThreadID));
            }
        };
        clr.GCSuspendEEStop += e => sink.Add(new GcSuspended(e.TimeStampRelativeMSec, e.ThreadID));
        clr.GCRestartEEStop += e => sink.Add(new GcRestarted(e.TimeStampRelativeMSec, e.ThreadID));
        clr.GCAllocationTick += e => sink.Add(new AllocationSampled(e.TimeStampRelativeMSec, e.ThreadID, e.AllocationAmount64, e.TypeName, stacks.StackOf(e)));
    }

    private static bool IsInduced(GCReason reason) => GcStarted.IsInducedReason((GcReason)(int)reason);
}
