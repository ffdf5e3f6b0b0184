namespace LoopDoctor.Cli.Signals;

/// <summary>Whose code took a contended lock.</summary>
internal enum LockTakerKind
{
    /// <summary>The frame just outside Monitor/Lock did not resolve, or an unnamed frame came first: LoopDoctor cannot tell.</summary>
    Unknown,

    /// <summary>Application code took the lock (itself, or a method inlined into it).</summary>
    Application,

    /// <summary>Framework code took the lock: a task wait's own machinery, HttpClient's connection pool, SemaphoreSlim's internals.</summary>
    Framework,
}

/// <summary>
/// Who took the lock a contention event waited for, read from the event's stack: the first frame outside the lock
/// machinery (Monitor, Lock, the runtime's event emission), which is the method whose <c>lock</c> statement (or an inlined
/// one) contended. For framework code, also the framework method the application called (the frame just inside the
/// first application frame), which is what the contention belongs to from the user's point of view.
/// </summary>
internal sealed record LockTaker(LockTakerKind Kind, string? Frame, string? CalledFrameworkMethod)
{
    public static readonly LockTaker Unknown = new(LockTakerKind.Unknown, null, null);

    /// <summary>Reads <paramref name="frames"/> (innermost first; null for a run of unnamed addresses).</summary>
    public static LockTaker Of(IReadOnlyList<string?> frames)
    {
        var inLockMachinery = false;
        var unnamedSince = false;
        for (var i = 0; i < frames.Count; i++)
        {
            var frame = frames[i];
            if (frame is null)
            {
                // Unnamed addresses inside the lock machinery are the runtime's native lock code; after it, an unnamed caller.
                unnamedSince = inLockMachinery;
                continue;
            }

            if (IsLockMachinery(frame))
            {
                inLockMachinery = true;
                unnamedSince = false;
                continue;
            }

            // .NET 8 and 9 enter a contended lock in native code called straight from the taker (no managed Monitor frame):
            // the innermost frame of a contention stack is the taker there.
            var nativeLockEntry = i == 0;
            if ((!inLockMachinery && !nativeLockEntry) || unnamedSince)
            {
                return Unknown;
            }

            // The framework's compiled delegate taking a lock is the user's lock statement, inlined into it.
            return CallStack.IsApplicationFrame(frame) || frame.StartsWith("dynamicClass.lambda_method", StringComparison.Ordinal)
                ? new LockTaker(LockTakerKind.Application, frame, null)
                : new LockTaker(LockTakerKind.Framework, frame, CalledFromApplication(frames, i));
        }

        return Unknown;
    }

    /// <summary>The lock's own code and the runtime's reporting of it: never the code that wanted the lock.</summary>
    public static bool IsLockMachinery(string frame) =>
        frame.StartsWith("System.Threading.Monitor.", StringComparison.Ordinal)
        || frame.StartsWith("System.Threading.Lock.", StringComparison.Ordinal)
        || frame.StartsWith("System.Threading.ObjectHeader.", StringComparison.Ordinal)
        || frame.StartsWith("System.Threading.SyncTable.", StringComparison.Ordinal)
        || frame.StartsWith("System.Threading.NativeRuntimeEventSource.", StringComparison.Ordinal)
        || frame.StartsWith("System.Diagnostics.Tracing.", StringComparison.Ordinal);

    // The framework frame the first application frame outside the taker called, when it is named.
    private static string? CalledFromApplication(IReadOnlyList<string?> frames, int taker)
    {
        for (var i = taker + 1; i < frames.Count; i++)
        {
            if (frames[i] is { } frame && CallStack.IsApplicationFrame(frame))
            {
                return frames[i - 1];
            }
        }

        return null;
    }

    /// <summary>
    /// The framework API in user terms: ".Result" for a task wait, else "Type.Method" ("HttpClient.Send"); the taking
    /// frame when no application frame called into the framework (a lock inside the framework's own threads).
    /// </summary>
    public string? FrameworkApi => Kind != LockTakerKind.Framework ? null : UserTerms(CalledFrameworkMethod ?? Frame!);

    /// <summary>"Namespace.Type.Method" → "Type.Method"; a known blocking API by its user name (".Result").</summary>
    public static string UserTerms(string frame) =>
        CallStack.KnownBlockingApi(frame) is { } api && api != CallStack.SynchronousIo && api != CallStack.LockApi ? api : ShortName(frame);

    /// <summary>"System.Net.Http.HttpConnectionPool.GetConnection" → "HttpConnectionPool.GetConnection" (generic arity dropped).</summary>
    public static string ShortName(string frame)
    {
        var name = string.Concat(frame.Split('`').Select((part, i) => i == 0 ? part : part.TrimStart("0123456789".ToCharArray())));
        var method = name.LastIndexOf('.');
        if (method <= 0)
        {
            return name;
        }

        var type = name.LastIndexOf('.', method - 1);
        return type < 0 ? name : name[(type + 1)..];
    }
}
