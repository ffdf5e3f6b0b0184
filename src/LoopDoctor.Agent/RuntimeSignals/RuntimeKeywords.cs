namespace LoopDoctor.Agent.RuntimeSignals;

/// <summary>
/// The runtime's event provider and the keywords LoopDoctor enables on it, in the agent's listener and in the CLI's
/// EventPipe sessions alike; under each keyword, the ids of its events the agent's listener handles (ClrEtwAll.man).
/// Values: https://learn.microsoft.com/dotnet/fundamentals/diagnostics/runtime-events
/// </summary>
internal static class RuntimeKeywords
{
    public const string ProviderName = "Microsoft-Windows-DotNETRuntime";

    public const long Gc = 0x1;
    public const long Loader = 0x8;
    public const long Jit = 0x10;
    public const long Contention = 0x4000;
    public const int ContentionStopId = 91;

    public const long Exception = 0x8000;

    public const long Threading = 0x10000;
    public const int ThreadPoolWorkerThreadStartId = 50;
    public const int ThreadPoolWorkerThreadStopId = 51;
    public const int ThreadPoolWorkerThreadAdjustmentId = 55;
    public const int ThreadPoolWorkerThreadWaitId = 57;

    /// <summary>Induces a blocking GC when a session enables it (what dotnet-gcdump uses).</summary>
    public const long GcHeapCollect = 0x800000;

    /// <summary>The first runtime that emits WaitHandleWaitStart/Stop.</summary>
    public const int WaitHandleEventsFromMajor = 9;

    /// <summary>WaitHandleWaitStart/Stop; they arrive only at Verbose.</summary>
    public const long WaitHandle = 0x40000000000;
    public const int WaitHandleWaitStartId = 301;
    public const int WaitHandleWaitStopId = 302;
}
