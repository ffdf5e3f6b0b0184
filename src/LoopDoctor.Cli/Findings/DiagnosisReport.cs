namespace LoopDoctor.Cli.Findings;

internal enum Verdict
{
    Healthy,
    Degraded,
    Starving,
}

internal enum AgentPresence
{
    None,
    Embedded,
    Injected,
}

/// <summary>The process diagnosed; <paramref name="RuntimeVersion"/> is its .NET version (e.g. <c>8.0.31</c>) when known.</summary>
internal sealed record TargetInfo(int ProcessId, string ProcessName, string? RuntimeVersion = null)
{
    /// <summary>"runs .NET 8.0.31", or what is unknown, for the reports' first line.</summary>
    public string RuntimeText => RuntimeVersion is { } v ? $".NET {v}" : "runtime version unknown";
}

/// <summary>Where a report's signals came from.</summary>
internal enum ReportSource
{
    Live,
    File,
}

/// <summary>Where the longest queue delay of a report was seen.</summary>
internal enum QueueDelayMaxSource
{
    /// <summary>The worst interval p99 of probes that ran: the same observations as the percentiles.</summary>
    CompletedProbes,

    /// <summary>The agent's gauge of a probe still waiting: the percentiles count a probe only once it has run.</summary>
    WaitingProbe,

    /// <summary>The agent's spike event (a probe over the agent's LagThreshold).</summary>
    SpikeEvent,
}

/// <summary>
/// The agent's queue delay in ms. <see cref="P50"/> and <see cref="P99"/> come from the same observations, the probes
/// that ran (the histogram's intervals: the count-weighted median of their p50s, the worst of their p99s); null when no
/// probe ran. <see cref="Max"/> is the longest delay any observation showed, and <see cref="MaxSource"/> says which.
/// </summary>
internal sealed record Percentiles(double? P50, double? P99, double Max)
{
    public QueueDelayMaxSource MaxSource { get; init; } = QueueDelayMaxSource.CompletedProbes;

    /// <summary>Delay samples in the intervals behind <see cref="P50"/> and <see cref="P99"/>.</summary>
    public long Samples { get; init; }

    /// <summary>The longest delay with where it was seen: "7.1 s (a probe still waiting)".</summary>
    public string DescribeMax() => Reporting.DurationText.FromMilliseconds(Max) + MaxSource switch
    {
        QueueDelayMaxSource.WaitingProbe => " (a probe still waiting)",
        QueueDelayMaxSource.SpikeEvent => " (the agent's spike event)",
        _ => " (worst interval p99 of the agent's probes)",
    };

    /// <summary>The queue delay in one sentence, each figure with where it comes from.</summary>
    public string Describe()
    {
        var longest = Reporting.DurationText.FromMilliseconds(Max);
        var percentiles = P50 is { } p50 && P99 is { } p99
            ? $"p50 {Reporting.DurationText.FromMilliseconds(p50)}, p99 {Reporting.DurationText.FromMilliseconds(p99)} (worst interval) of the agent's probes that ran"
            : "no probe of the agent's ran";
        return MaxSource switch
        {
            QueueDelayMaxSource.WaitingProbe => $"{percentiles}; a probe still waiting had waited {longest} (counted in the percentiles only once it runs)",
            QueueDelayMaxSource.SpikeEvent => $"{percentiles}; longest {longest} (the agent's spike event)",
            _ => percentiles,
        };
    }
}

internal sealed record InjectionCounts(int Starvation, int CooperativeBlocking);

/// <summary>Thread-pool figures over the whole session.</summary>
internal sealed record ThreadPoolSummary(
    Percentiles? QueueDelayMilliseconds,
    int ThreadCountMax,
    int ThreadCountMin,
    long QueueLengthMax,
    InjectionCounts Injections)
{
    /// <summary>The last worker count seen.</summary>
    public int ThreadCountLast { get; init; }

    /// <summary>The last queue length seen.</summary>
    public long QueueLengthLast { get; init; }

    /// <summary>The most threads blocked in the application's waits at the same time (WaitHandle events).</summary>
    public int BlockedThreadsMax { get; init; }

    public int InjectionsTotal => Injections.Starvation + Injections.CooperativeBlocking;
}

/// <summary>Everything a reporter prints: the target, the verdict, the findings (most severe first), the pool figures.</summary>
internal sealed record DiagnosisReport(
    TargetInfo Target,
    double DurationSeconds,
    AgentPresence Agent,
    Verdict Verdict,
    IReadOnlyList<Finding> Findings,
    ThreadPoolSummary ThreadPool)
{
    /// <summary>A live session, or a trace file (analyze).</summary>
    public ReportSource Source { get; init; } = ReportSource.Live;

    /// <summary>Set when the session ended early (target exited): the report covers only what was seen.</summary>
    public string? Incomplete { get; init; }

    /// <summary>
    /// Events the runtime dropped because loopdoctor could not read them fast enough (EventPipe's per-thread sequence
    /// numbers show the gaps); 0 when the session saw everything. Counts in the report are then lower bounds.
    /// </summary>
    public long EventsLost { get; init; }

    /// <summary>The session in time buckets; null for a report not built from a session (tests, goldens).</summary>
    public ReportTimeline? Timeline { get; init; }

    /// <summary>What this session's events could not show, in words (no stack samples: no long callbacks), so an empty finding list is not read as health.</summary>
    public IReadOnlyList<string> Unseen { get; init; } = [];

    /// <summary>The target exited mid-session (exit code 6).</summary>
    public bool TargetExited { get; init; }

    /// <summary>Marks the report incomplete when events were lost (unless it already is, for a more serious reason).</summary>
    public DiagnosisReport WithEventsLost(long eventsLost) => eventsLost <= 0
        ? this
        : this with
        {
            EventsLost = eventsLost,
            Incomplete = Incomplete ?? $"the session lost {eventsLost} events (the target produced them faster than loopdoctor could read them); counts are lower bounds",
        };

    public bool HasProblems => Findings.Any(f => f.Severity >= Severity.Warning);

    /// <summary>The verdict in one sentence: what, where and why ("STARVING — up to 62 threads were blocked ...").</summary>
    public string Summary => VerdictSentence.Of(this);

    /// <summary>What to do next, when a step helps (null otherwise).</summary>
    public string? NextStep => VerdictSentence.NextStepOf(this);

    /// <summary>The finding with <paramref name="id"/>, and its 1-based position in the report.</summary>
    public (Finding Finding, int Number)? FindingById(string id)
    {
        for (var i = 0; i < Findings.Count; i++)
        {
            if (Findings[i].Id == id)
            {
                return (Findings[i], i + 1);
            }
        }

        return null;
    }
}
