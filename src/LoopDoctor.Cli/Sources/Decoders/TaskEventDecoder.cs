using LoopDoctor.Cli.Signals;
using Microsoft.Diagnostics.Tracing;

namespace LoopDoctor.Cli.Sources.Decoders;

/// <summary>
/// <c>System.Threading.Tasks.TplEventSource</c>: which task a synchronous wait blocks on (<c>TaskWaitBegin</c>), what
/// that task is (<c>TraceOperationBegin</c>: the async method or promise that created it) and what it awaits in turn.
/// Read raw by event id: a live session without TraceLog, and TraceLog too, deliver the payload in declaration order.
/// Events: https://github.com/dotnet/runtime (src/libraries/System.Private.CoreLib/src/System/Threading/Tasks/TplEventSource.cs)
/// </summary>
internal sealed class TaskEventDecoder(ISignalSink sink)
{
    public const string ProviderName = "System.Threading.Tasks.TplEventSource";

    /// <summary>TaskTransfer (0x1) | Tasks (0x2) | AsyncCausalityOperation (0x8): the three events read here and little else.</summary>
    public const long Keywords = 0x0B;

    private const int TaskWaitBeginId = 10;
    private const int TraceOperationBeginId = 14;

    // TplEventSource declares its GUID (the one TPL's ETW provider had), so it is not the one derived from its name.
    private static readonly Guid ProviderGuid = new("2e5dba47-a3d2-4d16-8ee0-6671ffdcd7b5");

    public static bool Owns(TraceEvent e) => e.ProviderGuid == ProviderGuid || e.ProviderName == ProviderName;

    public void Decode(TraceEvent e)
    {
        var payload = new PayloadReader(e.EventData());
        switch ((int)e.ID)
        {
            case TaskWaitBeginId:
                payload.ReadInt32(); // OriginatingTaskSchedulerID
                payload.ReadInt32(); // OriginatingTaskID
                var taskId = payload.ReadInt32();
                var behavior = payload.ReadInt32();
                var continueWith = payload.ReadInt32();
                if (behavior is (int)TaskWaitBehavior.Synchronous or (int)TaskWaitBehavior.Asynchronous)
                {
                    sink.Add(new TaskWaitStarted(e.TimeStampRelativeMSec, e.ThreadID, taskId, (TaskWaitBehavior)behavior, continueWith));
                }

                break;
            case TraceOperationBeginId:
                var id = payload.ReadInt32();
                var name = payload.ReadString();
                if (name.Length > 0)
                {
                    sink.Add(new AsyncOperationStarted(e.TimeStampRelativeMSec, e.ThreadID, id, name));
                }

                break;
        }
    }
}
