using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Findings;

/// <summary>Stable finding kinds: CI gates and JSON consumers match on these strings, so they never change.</summary>
internal static class FindingKinds
{
    public const string ThreadPoolStarvation = "thread-pool-starvation";
    public const string BlockingWait = "blocking-wait";
    public const string LockContention = "lock-contention";
    public const string LongCallback = "long-callback";
    public const string UnobservedTaskException = "unobserved-task-exception";
    public const string HighLag = "high-lag";
    public const string GcPause = "gc-pause";
    public const string Deadlock = "deadlock";
    public const string HungWait = "hung-wait";
}

internal enum Severity
{
    Info = 0,
    Warning = 1,
    Critical = 2,
}

/// <summary>Where in user code a problem happens, ranked by the time it cost.</summary>
internal sealed record CallSite(IReadOnlyList<string> Frames, long Count, double TotalMilliseconds)
{
    /// <summary>The blocking API the frames call, in user terms (".Result", "Thread.Sleep"), when known.</summary>
    public string? BlockingApi { get; init; }

    /// <summary>For long callbacks: "cpu" (running managed code) or "blocked" (in native code: sleep, synchronous I/O).</summary>
    public string? Activity { get; init; }

    /// <summary>The request being served there (ASP.NET Core), when the stack and the request events prove which.</summary>
    public RequestEndpoint? Endpoint { get; init; }

    /// <summary>The framework entry that called the code (an MVC action, a minimal API handler), when the stack shows one.</summary>
    public CodeEntry Entry { get; init; }

    /// <summary>
    /// The framework's compiled delegate (<c>dynamicClass.lambda_method3</c>) standing where the user's code was: the JIT
    /// inlined the action or handler into it, so <see cref="Frames"/> is empty.
    /// </summary>
    public string? InlinedInto { get; init; }

    /// <summary>For a synchronous wait on a task: the async method or promise it blocks on, then what that one awaits.</summary>
    public IReadOnlyList<string>? Awaits { get; init; }

    /// <summary>The work item's outermost frame, given when no application frame resolved.</summary>
    public string? WorkItem { get; init; }

    /// <summary>True when the user's code is known to have been inlined away: the frames shown are not all the code that ran.</summary>
    public bool MayBeInlined => InlinedInto is not null;

    public static CallSite From(Attribution site, long count, double totalMilliseconds) => new(site.Frames, count, totalMilliseconds)
    {
        Endpoint = site.Endpoint,
        Entry = site.Entry,
        InlinedInto = site.InlinedInto,
        Awaits = site.Awaits,
        WorkItem = site.WorkItem,
    };

    /// <summary>What to fix, in words: the innermost application frame, else what is known instead of it, and what is not.</summary>
    public string Describe() => CallSiteText.Describe(this);
}

/// <summary>
/// Contention on a lock that framework code took (a task wait's machinery, HttpClient's connection pool, SemaphoreSlim's
/// internals), attributed to the framework API the application called at <see cref="Frames"/>: part of that call's cost,
/// not a lock in the application's code.
/// </summary>
internal sealed record FrameworkLock(string Api, string LockTakenIn, IReadOnlyList<string> Frames, long Count, double TotalMilliseconds, double MaxMilliseconds)
{
    public string Describe() => Frames.Count == 0 ? "(no resolvable application frame)" : Frames[0];
}

/// <summary>One diagnosed problem with its evidence, call sites and the fix.</summary>
internal sealed record Finding(
    string Kind,
    Severity Severity,
    string Title,
    string Advice,
    long Count,
    double TotalMilliseconds,
    double MaxMilliseconds,
    IReadOnlyList<CallSite> CallSites)
{
    /// <summary>Unobserved task exceptions only: the exception's type.</summary>
    public string? ExceptionType { get; init; }

    /// <summary>Plain-words evidence lines ("3 threads injected because of blocking ...").</summary>
    public IReadOnlyList<string> Evidence { get; init; } = [];

    /// <summary>Counts and durations were estimated from stack samples, not measured from events (an evidence line says why).</summary>
    public bool Estimated { get; init; }

    /// <summary>The finding's id in its report: its kind, numbered from 2 when a kind occurs more than once ("unobserved-task-exception-2").</summary>
    public string Id { get; init; } = Kind;

    /// <summary>Ids of the findings in the same report that explain this one (starvation ← the blocking wait that caused it).</summary>
    public IReadOnlyList<string> ExplainedBy { get; init; } = [];

    /// <summary>Contention on locks taken inside the framework API this finding's call sites call, folded in here.</summary>
    public IReadOnlyList<FrameworkLock> FrameworkLocks { get; init; } = [];
}
