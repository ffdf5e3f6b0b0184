using System.Text.RegularExpressions;

namespace LoopDoctor.Cli.Signals;

/// <summary>
/// A call stack as resolved method names, innermost first. Frames that could not be resolved (on .NET 10, the
/// ReadyToRun framework code comes back as bare addresses over a live session) are left out, so the first
/// frames are the first resolvable ones.
/// </summary>
internal sealed partial class CallStack
{
    public static readonly CallStack Empty = new([]);

    /// <param name="frames">Resolved names innermost first; null stands for a run of addresses that did not resolve
    /// (the resolvers pass them so that who took a contended lock is not decided across an unnamed frame).</param>
    public CallStack(IReadOnlyList<string?> frames) => Resolve(frames);

    private CallStack()
    {
    }

    /// <summary>
    /// A stack whose frames are not known yet: a .nettrace names the methods compiled before the session only in its
    /// rundown, at the end of the file, so the offline reader hands these out while reading and resolves each one once
    /// (<see cref="Resolve"/>) before any detector sees it.
    /// </summary>
    internal static CallStack Unresolved() => new();

    /// <summary>Sets the frames (innermost first) and what is derived from them.</summary>
    internal void Resolve(IReadOnlyList<string?> frames)
    {
        var resolved = new List<string>(frames.Count);
        var app = new List<string>(Math.Min(frames.Count, 8));
        string? blockingApi = null;
        var poolDispatch = false;
        foreach (var frame in frames)
        {
            if (frame is null)
            {
                continue;
            }

            resolved.Add(frame);
            if (IsApplicationFrame(frame))
            {
                // Async methods show twice (the stub and its MoveNext, both named after the method): keep one.
                if (app.Count == 0 || app[^1] != frame)
                {
                    app.Add(frame);
                }
            }
            else if (app.Count == 0 && KnownBlockingApi(frame) is { } api)
            {
                // The outermost known API below the user's code is what the user wrote (.Result, not Monitor.Wait under it).
                blockingApi = api;
            }

            if (IsPoolDispatchFrame(frame))
            {
                poolDispatch = true;
            }
        }

        // Without unnamed runs the given list is the frames (no copy: stacks are many and kept for the session).
        Frames = resolved.Count == frames.Count ? (IReadOnlyList<string>)frames : resolved.ToArray();
        ApplicationFrames = app;
        BlockingApi = blockingApi;
        HasPoolDispatchFrame = poolDispatch;
        LockTaker = LockTaker.Of(frames);
        (Entry, CompiledDelegateFrame) = EntryOf(resolved);
        RequestScope = RequestScopeOf(resolved);
        WorkItemFrame = WorkItemFrameOf(resolved);
        _bare = null;
    }

    // The attribution without an endpoint at the last depth asked: one per distinct stack, not one per sample. One
    // reference, so a reader on another thread sees a depth and its attribution together.
    private Tuple<int, Attribution>? _bare;

    /// <summary>What this stack alone tells about who to blame (no endpoint): built once per depth, then shared.</summary>
    internal Attribution BareAttribution(int depth)
    {
        var bare = _bare;
        if (bare is null || bare.Item1 != depth)
        {
            _bare = bare = Tuple.Create(depth, new Attribution(CallSite(depth), Entry, UserCodeInlined ? CompiledDelegateFrame : null,
                WorkItem: ApplicationFrames.Count == 0 ? WorkItemFrame : null));
        }

        return bare.Item2;
    }

    /// <summary>The framework entry point that called the user's code (an MVC action, a minimal API handler), when the stack shows one.</summary>
    public CodeEntry Entry { get; private set; }

    /// <summary>
    /// The expression-compiled delegate (<c>dynamicClass.lambda_method12</c>) through which the framework called the
    /// user's code: at tier 1 the JIT inlines small actions and handlers into it, so it stands where their frames were.
    /// </summary>
    public string? CompiledDelegateFrame { get; private set; }

    /// <summary>
    /// Whether the user's code may have been inlined away: the framework's compiled delegate calls a framework API (the
    /// wait, the sleep) directly, with no application frame between them.
    /// </summary>
    public bool UserCodeInlined => CompiledDelegateFrame is not null && ApplicationFrames.Count == 0;

    /// <summary>Which of ASP.NET Core's request markers on this thread, if any, is provably the request this stack serves.</summary>
    public RequestScope RequestScope { get; private set; }

    /// <summary>
    /// The outermost frame of the work item, above the pool's dispatch machinery (Kestrel's request loop, a timer
    /// callback, the user's method): what a work item is when no application frame resolves.
    /// </summary>
    public string? WorkItemFrame { get; private set; }

    private static (CodeEntry, string?) EntryOf(IReadOnlyList<string> frames)
    {
        for (var i = 0; i < frames.Count; i++)
        {
            if (!frames[i].StartsWith("dynamicClass.lambda_method", StringComparison.Ordinal))
            {
                continue;
            }

            // The compiled delegate's caller tells whose it is: MVC's invoker, or the endpoint middleware (minimal APIs).
            var caller = i + 1 < frames.Count ? frames[i + 1] : "";
            var entry = caller.StartsWith("Microsoft.AspNetCore.Mvc.", StringComparison.Ordinal) ? CodeEntry.MvcAction
                : caller.StartsWith("Microsoft.AspNetCore.Routing.EndpointMiddleware", StringComparison.Ordinal)
                  || caller.StartsWith("Microsoft.AspNetCore.Http.RequestDelegateFactory", StringComparison.Ordinal)
                  || caller.StartsWith("Microsoft.AspNetCore.", StringComparison.Ordinal) ? CodeEntry.MinimalApiHandler
                : CodeEntry.CompiledDelegate;
            return (entry, frames[i]);
        }

        return (CodeEntry.None, null);
    }

    // Frames that run a continuation or a queued item: below one of them, the code ran in a later work item than the
    // request marker the outer frames would suggest.
    private static readonly string[] ContinuationRunners =
        ["RunContinuations", "TaskContinuation", "ExecuteFromThreadPool", "RunFromThreadPoolDispatchLoop", ".SetResult", ".TrySetResult", "ThreadPoolWorkQueue.Dispatch"];

    private static bool IsContinuationRunner(string frame) => ContinuationRunners.Any(part => frame.Contains(part, StringComparison.Ordinal));

    private static RequestScope RequestScopeOf(IReadOnlyList<string> frames)
    {
        // Innermost first: a request marker proves itself when its framework frame is reached before any frame that
        // resumed other work (MVC's BeforeAction fires in InvokeActionMethodAsync just before it calls the action;
        // routing's EndpointMatched fires in the same synchronous run of Kestrel's request loop that reached the endpoint).
        var endpointMiddleware = false;
        foreach (var frame in frames)
        {
            if (frame.StartsWith("Microsoft.AspNetCore.Mvc.Infrastructure.ControllerActionInvoker.InvokeActionMethodAsync", StringComparison.Ordinal))
            {
                return RequestScope.MvcAction;
            }

            if (frame.StartsWith("Microsoft.AspNetCore.Routing.EndpointMiddleware.Invoke", StringComparison.Ordinal))
            {
                endpointMiddleware = true;
            }

            if (frame.StartsWith("Microsoft.AspNetCore.Server.Kestrel.Core.Internal.Http.HttpProtocol", StringComparison.Ordinal) && frame.Contains("ProcessRequests", StringComparison.Ordinal))
            {
                return endpointMiddleware ? RequestScope.Request : RequestScope.None;
            }

            if (IsContinuationRunner(frame))
            {
                return RequestScope.None;
            }
        }

        return RequestScope.None;
    }

    private static string? WorkItemFrameOf(IReadOnlyList<string> frames)
    {
        for (var i = frames.Count - 1; i >= 0; i--)
        {
            var frame = frames[i];
            if (frame.StartsWith("System.Threading.", StringComparison.Ordinal) || frame.StartsWith("System.Runtime.CompilerServices.", StringComparison.Ordinal)
                || frame.StartsWith("ROOT", StringComparison.Ordinal) || frame.StartsWith("Thread (", StringComparison.Ordinal)
                || frame.StartsWith("Process", StringComparison.Ordinal))
            {
                continue;
            }

            return frame;
        }

        return null;
    }

    /// <summary>Resolved frames, innermost first.</summary>
    public IReadOnlyList<string> Frames { get; private set; } = [];

    /// <summary>Resolved frames outside the framework (not System.*, Microsoft.*), innermost first: the code a user can fix.</summary>
    public IReadOnlyList<string> ApplicationFrames { get; private set; } = [];

    /// <summary>The sync-over-async or blocking API found on the stack, in user terms (".Result", "Thread.Sleep"), if resolvable.</summary>
    public string? BlockingApi { get; private set; }

    /// <summary>True when the stack is parked in a synchronization wait (task wait, Monitor, WaitHandle, lock): the wait detectors' business.</summary>
    public bool IsInSynchronizationWait => BlockingApi is not null and not "Thread.Sleep" and not SynchronousIo;

    /// <summary>
    /// For a contention event's stack: which frame took the contended lock (the one just outside Monitor/Lock), and
    /// whether that is application or framework code.
    /// </summary>
    public LockTaker LockTaker { get; private set; } = LockTaker.Unknown;

    /// <summary>True when the pool's dispatch loop is on the stack (so this is a thread-pool worker).</summary>
    public bool HasPoolDispatchFrame { get; private set; }

    /// <summary>The outermost application frame: the work item's entry point in user code.</summary>
    public string? OutermostApplicationFrame => ApplicationFrames.Count > 0 ? ApplicationFrames[^1] : null;

    /// <summary>The call site: the first <paramref name="depth"/> application frames, innermost first.</summary>
    public IReadOnlyList<string> CallSite(int depth = 4) =>
        ApplicationFrames.Count <= depth ? ApplicationFrames : ApplicationFrames.Take(depth).ToArray();

    public static bool IsApplicationFrame(string frame) =>
        !(frame.StartsWith("System.", StringComparison.Ordinal)
          || frame.StartsWith("Microsoft.", StringComparison.Ordinal)
          || frame.StartsWith("Interop", StringComparison.Ordinal)
          || frame.StartsWith("ILStubClass", StringComparison.Ordinal)
          || frame.StartsWith("dynamicClass", StringComparison.Ordinal)
          || frame.StartsWith("LoopDoctor.Agent.", StringComparison.Ordinal)
          || frame.StartsWith("Internal.", StringComparison.Ordinal)
          || frame.StartsWith("ROOT", StringComparison.Ordinal)
          || frame.StartsWith("Thread (", StringComparison.Ordinal)
          || frame.StartsWith("Process", StringComparison.Ordinal)
          || frame.Length == 0
          || frame[0] == '?'
          || frame[0] == '<');

    // Only the worker's own loop: PortableThreadPool.GateThread and WorkerThread.MaybeAddWorkingWorker (called by any
    // thread that queues work) are not workers.
    private static bool IsPoolDispatchFrame(string frame) =>
        frame is "System.Threading.ThreadPoolWorkQueue.Dispatch" or "System.Threading.PortableThreadPool.WorkerThread.WorkerThreadStart";

    /// <summary>The blocking API of a wait inside a contended <c>lock</c>: lock contention, not a blocking wait.</summary>
    public const string LockApi = "lock (Monitor.Enter)";

    /// <summary>A synchronous task wait whose API frame (Task`1.Result, Task.Wait()) was inlined into its caller.</summary>
    public const string InlinedTaskWait = ".Result or .Wait()";

    /// <summary>The blocking API of a thread outside managed code with no known blocking call on its stack.</summary>
    public const string UnknownNativeCall = "an unknown native call";

    /// <summary>The blocking API of blocking socket or file calls.</summary>
    public const string SynchronousIo = "synchronous I/O";

    private static bool IsAwaiterWait(string frame) =>
        frame.Contains(".GetResult", StringComparison.Ordinal) || frame.Contains(".HandleNonSuccessAndDebuggerNotification", StringComparison.Ordinal)
        || frame.Contains(".ValidateEnd", StringComparison.Ordinal);

    /// <summary>Maps a framework frame to the blocking API a user wrote.</summary>
    public static string? KnownBlockingApi(string frame) => frame switch
    {
        _ when frame.StartsWith("System.Threading.Tasks.Task`1.get_Result", StringComparison.Ordinal) => ".Result",
        _ when frame.StartsWith("System.Threading.Tasks.Task`1.GetResultCore", StringComparison.Ordinal) => ".Result",
        // Only the awaiter's blocking end: its IsCompleted and OnCompleted belong to every await.
        _ when frame.StartsWith("System.Runtime.CompilerServices.TaskAwaiter", StringComparison.Ordinal) && IsAwaiterWait(frame) => "GetAwaiter().GetResult()",
        _ when frame.StartsWith("System.Runtime.CompilerServices.ValueTaskAwaiter", StringComparison.Ordinal) && IsAwaiterWait(frame) => "GetAwaiter().GetResult()",
        // Task`1.Result and Task.Wait() both end here; with both inlined into the caller, this frame is all that is left.
        _ when frame.StartsWith("System.Threading.Tasks.Task.InternalWait", StringComparison.Ordinal) => InlinedTaskWait,
        _ when frame.StartsWith("System.Threading.Tasks.Task.WaitAll", StringComparison.Ordinal) => "Task.WaitAll()",
        _ when frame.StartsWith("System.Threading.Tasks.Task.WaitAny", StringComparison.Ordinal) => "Task.WaitAny()",
        _ when frame.StartsWith("System.Threading.Tasks.Task.Wait", StringComparison.Ordinal) && !frame.Contains("Async", StringComparison.Ordinal) => ".Wait()",
        _ when frame.StartsWith("System.Threading.SemaphoreSlim.Wait", StringComparison.Ordinal) && !frame.Contains("Async", StringComparison.Ordinal) => "SemaphoreSlim.Wait",
        _ when frame.StartsWith("System.Threading.Thread.Sleep", StringComparison.Ordinal) => "Thread.Sleep",
        _ when frame.StartsWith("System.Threading.Monitor.Enter", StringComparison.Ordinal) => LockApi,
        _ when frame.StartsWith("System.Threading.Monitor.Wait", StringComparison.Ordinal) => "Monitor.Wait",
        _ when frame.StartsWith("System.Threading.WaitHandle.Wait", StringComparison.Ordinal) => "WaitHandle.WaitOne",
        _ when frame.StartsWith("System.Threading.Thread.Join", StringComparison.Ordinal) => "Thread.Join",
        _ when frame.StartsWith("System.IO.", StringComparison.Ordinal) && !frame.Contains("Async", StringComparison.Ordinal) => SynchronousIo,
        _ when frame.StartsWith("System.Net.Sockets.Socket.Receive", StringComparison.Ordinal) => SynchronousIo,
        _ when frame.StartsWith("System.Net.Sockets.Socket.Send", StringComparison.Ordinal) && !frame.Contains("Async", StringComparison.Ordinal) => SynchronousIo,
        _ when frame is "System.Net.Http.HttpClient.Send" or "System.Net.Http.HttpMessageInvoker.Send" => SynchronousIo,
        _ when frame.StartsWith("System.Net.Sockets.NetworkStream.Read", StringComparison.Ordinal) && !frame.Contains("Async", StringComparison.Ordinal) => SynchronousIo,
        _ => null,
    };

    /// <summary>
    /// "Namespace.Type.Method" from a runtime method name: drops the signature, turns nested-type '+' into '.',
    /// and names an async state machine's MoveNext after its method (<c>Type+&lt;Get&gt;d__3.MoveNext</c> → <c>Type.Get</c>).
    /// </summary>
    public static string NormalizeMethodName(string name)
    {
        var paren = name.IndexOf('(');
        if (paren > 0)
        {
            name = name[..paren];
        }

        name = name.Trim();
        // Generic instantiations: Task`1[System.Int32].GetResultCore → Task`1.GetResultCore (innermost brackets first).
        while (name.Contains('[', StringComparison.Ordinal) && GenericArguments().IsMatch(name))
        {
            name = GenericArguments().Replace(name, "");
        }

        name = StateMachineMoveNext().Replace(name, ".$1");
        return name.Replace('+', '.');
    }

    [GeneratedRegex(@"\[[^\[\]]*\]")]
    private static partial Regex GenericArguments();

    [GeneratedRegex(@"\+<([^>]+)>d__\d+\.MoveNext$")]
    private static partial Regex StateMachineMoveNext();

    public override string ToString() => string.Join(" <- ", Frames);
}

/// <summary>The framework entry point that called the user's code.</summary>
internal enum CodeEntry
{
    None,

    /// <summary>An ASP.NET Core MVC controller action, called through MVC's expression-compiled invoker.</summary>
    MvcAction,

    /// <summary>A minimal API handler (or another endpoint's delegate), called through the endpoint's compiled request delegate.</summary>
    MinimalApiHandler,

    /// <summary>Some other expression-compiled delegate.</summary>
    CompiledDelegate,
}

/// <summary>Which request marker on the stack's thread is provably the request the stack serves.</summary>
internal enum RequestScope
{
    /// <summary>None can be proven (no request on the stack, or the code runs in a continuation).</summary>
    None,

    /// <summary>The latest MVC BeforeAction on the thread: the stack is inside the action MVC called after it.</summary>
    MvcAction,

    /// <summary>The latest EndpointMatched on the thread: the stack is inside the endpoint, in the run of Kestrel's request loop that matched it.</summary>
    Request,
}
