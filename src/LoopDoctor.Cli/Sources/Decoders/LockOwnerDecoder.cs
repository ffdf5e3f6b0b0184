using LoopDoctor.Cli.Signals;
using Microsoft.Diagnostics.Tracing;

namespace LoopDoctor.Cli.Sources.Decoders;

/// <summary>
/// ContentionStart's owner fields (.NET 8+), for the deadlock detector's wait-for graph. On .NET 10 the owner is the
/// OS thread id of the thread holding the lock, the same id events carry as their thread.
/// </summary>
internal static class LockOwnerDecoder
{
    public static void Attach(TraceEventDispatcher source, ISignalSink sink) =>
        source.Clr.ContentionStart += e =>
        {
            if (e.Version >= 2)
            {
                sink.Add(new LockWaitStarted(e.TimeStampRelativeMSec, e.ThreadID, (ulong)e.LockID, (ulong)e.AssociatedObjectID, (int)e.LockOwnerThreadID));
            }
        };
}
