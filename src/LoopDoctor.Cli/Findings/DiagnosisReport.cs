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

internal sealed record Percentiles(double P50, double P99, double Max);

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
}
