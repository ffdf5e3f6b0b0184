namespace LoopDoctor.Cli.Signals;

/// <summary>Why the GC ran, as the runtime's GCStart <c>Reason</c> numbers it (gcinterface.h <c>gc_reason</c>).</summary>
internal enum GcReason
{
    SmallObjectAllocation = 0,
    Induced = 1,
    LowMemory = 2,
    Empty = 3,
    LargeObjectAllocation = 4,
    OutOfSpaceSmallObjectHeap = 5,
    OutOfSpaceLargeObjectHeap = 6,
    InducedNotForced = 7,
    Internal = 8,
    InducedLowMemory = 9,
    InducedCompacting = 10,
    LowMemoryHost = 11,
    PerformanceModeFullGc = 12,
    LowMemoryHostBlocking = 13,
}

/// <summary>How the GC ran (GCStart <c>Type</c>): a blocking collection stops every managed thread for its whole length.</summary>
internal enum GcType
{
    Blocking = 0,
    Background = 1,
    Foreground = 2,
}

/// <summary>A collection began (GCStart): its number, generation, reason and type, and the stack of the thread that triggered it.</summary>
internal sealed record GcStarted(double TimestampMs, int ThreadId, int Number, int Generation, GcReason Reason, GcType Type, CallStack Stack)
    : Signal(TimestampMs, ThreadId)
{
    /// <summary>The application asked for this collection (GC.Collect, GC.AddMemoryPressure's induced collections).</summary>
    public bool IsInduced => IsInducedReason(Reason);

    public static bool IsInducedReason(GcReason reason) =>
        reason is GcReason.Induced or GcReason.InducedNotForced or GcReason.InducedLowMemory or GcReason.InducedCompacting;
}

/// <summary>The runtime began stopping every managed thread for a GC (GCSuspendEEBegin with a GC reason).</summary>
internal sealed record GcSuspensionStarted(double TimestampMs, int ThreadId) : Signal(TimestampMs, ThreadId);

/// <summary>Every managed thread has stopped (GCSuspendEEEnd): the time since <see cref="GcSuspensionStarted"/> was spent reaching safe points.</summary>
internal sealed record GcSuspended(double TimestampMs, int ThreadId) : Signal(TimestampMs, ThreadId);

/// <summary>The runtime let the managed threads run again (GCRestartEEEnd): the pause that began at the suspension is over.</summary>
internal sealed record GcRestarted(double TimestampMs, int ThreadId) : Signal(TimestampMs, ThreadId);

/// <summary>About every 100 KB a thread allocates, the runtime names the type and the stack (GCAllocationTick).</summary>
internal sealed record AllocationSampled(double TimestampMs, int ThreadId, long Bytes, string TypeName, CallStack Stack) : Signal(TimestampMs, ThreadId);
