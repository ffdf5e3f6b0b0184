using LoopDoctor.Cli.Sources.Stacks;
using LoopDoctor.Cli.Signals;
using Microsoft.Diagnostics.Tracing;

namespace LoopDoctor.Cli.Sources.Decoders;

/// <summary>
/// <c>Microsoft-Windows-DotNETRuntime</c>: blocking waits, lock contention and the thread pool's worker events become
/// signals, through TraceEvent's own parser for the runtime (keywords: <see cref="SessionProviders.DiagnosisKeywords"/>).
/// </summary>
internal static class RuntimeEventDecoder
{
    public static void Attach(TraceEventDispatcher source, ISignalSink sink, IStackResolver stacks)
    {
        var clr = source.Clr;
        clr.WaitHandleWaitStart += e => sink.Add(new WaitStarted(e.TimeStampRelativeMSec, e.ThreadID,
            (int)e.WaitSource == (int)WaitSource.MonitorWait ? WaitSource.MonitorWait : WaitSource.Unknown, stacks.StackOf(e)));
        clr.WaitHandleWaitStop += e => sink.Add(new WaitStopped(e.TimeStampRelativeMSec, e.ThreadID));
        clr.ContentionStart += e => sink.Add(new ContentionStarted(e.TimeStampRelativeMSec, e.ThreadID, stacks.StackOf(e)));
        clr.ContentionStop += e => sink.Add(new ContentionStopped(e.TimeStampRelativeMSec, e.ThreadID, e.DurationNs / 1_000_000.0, stacks.StackOf(e)));
        clr.ThreadPoolWorkerThreadAdjustmentAdjustment += e =>
            sink.Add(new PoolAdjustment(e.TimeStampRelativeMSec, e.ThreadID, e.NewWorkerThreadCount, (AdjustmentReason)(int)e.Reason));
        clr.ThreadPoolWorkerThreadStart += e => sink.Add(new PoolThreadSeen(e.TimeStampRelativeMSec, e.ThreadID, e.ActiveWorkerThreadCount));
        clr.ThreadPoolWorkerThreadWait += e => sink.Add(new PoolThreadSeen(e.TimeStampRelativeMSec, e.ThreadID, e.ActiveWorkerThreadCount));
    }
}
