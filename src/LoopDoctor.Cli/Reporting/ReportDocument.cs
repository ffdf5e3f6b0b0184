using LoopDoctor.Cli.Signals;
using System.Text.Json.Serialization;
using LoopDoctor.Cli.Findings;

namespace LoopDoctor.Cli.Reporting;

/// <summary>
/// The report as JSON (docs/report.schema.json), built once from a <see cref="DiagnosisReport"/>. Parameter order is the
/// property order on the wire; names are camelCased by <see cref="ReportJsonContext"/>. Fields never change meaning.
/// </summary>
internal sealed record ReportDocument(
    int SchemaVersion,
    TargetDocument Target,
    string Source,
    double DurationSeconds,
    string Agent,
    string Verdict,
    string Summary,
    string? NextStep,
    string? Incomplete,
    long EventsLost,
    IReadOnlyList<FindingDocument> Findings,
    ThreadPoolDocument ThreadPool,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] TimelineDocument? Timeline)
{
    /// <summary>What the session's events could not show, in words; absent when nothing is known to be missing.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Unseen { get; init; }

    /// <summary>Bumped only on an incompatible change of the contract.</summary>
    public const int CurrentSchemaVersion = 1;

    public static ReportDocument From(DiagnosisReport report) => new(
        CurrentSchemaVersion,
        TargetDocument.From(report.Target),
        report.Source.Name(),
        report.DurationSeconds,
        report.Agent.Name(),
        report.Verdict.Name(),
        report.Summary,
        report.NextStep,
        report.Incomplete,
        report.EventsLost,
        report.Findings.Select(FindingDocument.From).ToList(),
        ThreadPoolDocument.From(report.ThreadPool),
        report.Timeline is { } timeline ? TimelineDocument.From(timeline) : null)
    {
        Unseen = report.Unseen.Count > 0 ? report.Unseen : null,
    };
}

internal sealed record TargetDocument(int ProcessId, string ProcessName, string? RuntimeVersion)
{
    public static TargetDocument From(TargetInfo target) => new(target.ProcessId, target.ProcessName, target.RuntimeVersion);
}

internal sealed record FindingDocument(
    string Id,
    string Kind,
    string Severity,
    string Title,
    string Advice,
    long Count,
    double TotalMilliseconds,
    double MaxMilliseconds,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ExceptionType,
    IReadOnlyList<string> Evidence,
    IReadOnlyList<string> ExplainedBy,
    IReadOnlyList<CallSiteDocument> CallSites,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] bool Estimated,
    IReadOnlyList<FrameworkLockDocument> FrameworkLocks)
{
    public static FindingDocument From(Finding finding) => new(
        finding.Id,
        finding.Kind,
        finding.Severity.Name(),
        finding.Title,
        finding.Advice,
        finding.Count,
        finding.TotalMilliseconds,
        finding.MaxMilliseconds,
        finding.ExceptionType,
        finding.Evidence,
        finding.ExplainedBy,
        finding.CallSites.Select(CallSiteDocument.From).ToList(),
        finding.Estimated,
        finding.FrameworkLocks.Select(FrameworkLockDocument.From).ToList());
}

/// <summary>Contention on a lock framework code took, folded into the finding of the application call that reached it.</summary>
internal sealed record FrameworkLockDocument(string Api, string LockTakenIn, IReadOnlyList<string> Frames, long Count, double TotalMilliseconds, double MaxMilliseconds)
{
    public static FrameworkLockDocument From(FrameworkLock l) => new(l.Api, l.LockTakenIn, l.Frames, l.Count, l.TotalMilliseconds, l.MaxMilliseconds);
}

internal sealed record CallSiteDocument(
    IReadOnlyList<string> Frames,
    long Count,
    double TotalMilliseconds,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? BlockingApi,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Activity)
{
    /// <summary>The call site in words: the innermost frame, or what is known instead of it (<see cref="CallSite.Describe"/>).</summary>
    public string Description { get; init; } = "";

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public EndpointDocument? Endpoint { get; init; }

    /// <summary>"mvc-action", "minimal-api-handler" or "compiled-delegate": the framework entry that called the code.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Entry { get; init; }

    /// <summary>The compiled delegate the user's code was inlined into (its frame stands where theirs was).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? InlinedInto { get; init; }

    public bool MayBeInlined { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? WorkItem { get; init; }

    /// <summary>For a synchronous wait on a task: the async method or promise it blocks on, then what that one awaits.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Awaits { get; init; }

    public static CallSiteDocument From(CallSite site) => new(site.Frames, site.Count, site.TotalMilliseconds, site.BlockingApi, site.Activity)
    {
        Description = site.Describe(),
        Endpoint = site.Endpoint is { } e ? new EndpointDocument(e.Method, e.Path, e.Route, e.Action) : null,
        Entry = site.Entry switch
        {
            CodeEntry.MvcAction => "mvc-action",
            CodeEntry.MinimalApiHandler => "minimal-api-handler",
            CodeEntry.CompiledDelegate => "compiled-delegate",
            _ => null,
        },
        InlinedInto = site.InlinedInto,
        MayBeInlined = site.MayBeInlined,
        WorkItem = site.WorkItem,
        Awaits = site.Awaits,
    };
}

/// <summary>The ASP.NET Core request a call site served: method and path, and for MVC the action and its route template.</summary>
internal sealed record EndpointDocument(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Method,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Path,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Route,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Action);

internal sealed record ThreadPoolDocument(
    QueueDelayDocument? QueueDelayMilliseconds,
    int ThreadCountMax,
    int ThreadCountMin,
    long QueueLengthMax,
    InjectionsDocument Injections,
    int BlockedThreadsMax)
{
    public static ThreadPoolDocument From(ThreadPoolSummary pool) => new(
        pool.QueueDelayMilliseconds is { } d ? new QueueDelayDocument(d.P50, d.P99, Max: d.Max, MaxSource: d.MaxSource.Name(), Samples: d.Samples) : null,
        pool.ThreadCountMax,
        pool.ThreadCountMin,
        pool.QueueLengthMax,
        new InjectionsDocument(pool.Injections.Starvation, pool.Injections.CooperativeBlocking),
        pool.BlockedThreadsMax);
}

internal sealed record InjectionsDocument(int Starvation, int CooperativeBlocking);

/// <summary>
/// The queue-delay object of all three documents, in milliseconds: p50 and p99 always (null in the report when no probe
/// ran); <c>max</c>, <c>maxSource</c> and <c>samples</c> in the report, <c>worstIntervalP99</c> in check's verdict, none of
/// those in the baseline (so they are left out when null).
/// </summary>
internal sealed record QueueDelayDocument(
    double? P50,
    double? P99,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? Max = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? WorstIntervalP99 = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? MaxSource = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Samples = null);

/// <summary>
/// The session in time buckets, one array per series (compact: a 10-minute session is 600 entries per array); entry
/// <c>i</c> covers [i × bucketSeconds, (i + 1) × bucketSeconds) seconds. null where a bucket measured nothing.
/// </summary>
internal sealed record TimelineDocument(
    double BucketSeconds,
    IReadOnlyList<double?> QueueDelayP50Milliseconds,
    IReadOnlyList<double?> QueueDelayP99Milliseconds,
    IReadOnlyList<double?> QueueDelayMaxMilliseconds,
    IReadOnlyList<double?> TimerLagMilliseconds,
    IReadOnlyList<int?> ThreadCount,
    TimelineInjectionsDocument Injections,
    IReadOnlyList<int> BlockingWaits,
    IReadOnlyList<int> ContendedAcquisitions,
    IReadOnlyList<int> UnobservedExceptions,
    IReadOnlyList<double> LongCallbackMilliseconds,
    IReadOnlyList<TimelineEpisodeDocument> Episodes,
    IReadOnlyList<TimelineGcPauseDocument> GcPauses)
{
    public static TimelineDocument From(ReportTimeline timeline)
    {
        var p = timeline.Points;
        return new TimelineDocument(
            timeline.BucketSeconds,
            p.Select(x => x.QueueDelayP50Ms).ToList(),
            p.Select(x => x.QueueDelayP99Ms).ToList(),
            p.Select(x => x.QueueDelayMaxMs).ToList(),
            p.Select(x => x.TimerLagMs).ToList(),
            p.Select(x => x.ThreadCount).ToList(),
            new TimelineInjectionsDocument(p.Select(x => x.StarvationInjections).ToList(), p.Select(x => x.CooperativeBlockingInjections).ToList(), p.Select(x => x.OtherAdjustments).ToList()),
            p.Select(x => x.BlockingWaits).ToList(),
            p.Select(x => x.ContendedAcquisitions).ToList(),
            p.Select(x => x.UnobservedExceptions).ToList(),
            p.Select(x => x.LongCallbackMs).ToList(),
            timeline.Episodes.Select(e => new TimelineEpisodeDocument(e.Kind, e.StartSeconds, e.EndSeconds)).ToList(),
            timeline.GcPauses.Select(g => new TimelineGcPauseDocument(Math.Round(g.StartSeconds, 3), Math.Round(g.EndSeconds, 3), g.Generation, g.Induced)).ToList());
    }
}

/// <summary>Thread-count changes per bucket by the runtime's reason: starvation, cooperative blocking, and the rest (hill climbing, warm-up, timeouts).</summary>
internal sealed record TimelineInjectionsDocument(IReadOnlyList<int> Starvation, IReadOnlyList<int> CooperativeBlocking, IReadOnlyList<int> Other);

internal sealed record TimelineEpisodeDocument(string Kind, double StartSeconds, double EndSeconds);

/// <summary>A GC pause over the lag threshold; generation -1 when its collection was not seen.</summary>
internal sealed record TimelineGcPauseDocument(double StartSeconds, double EndSeconds, int Generation, bool Induced);
