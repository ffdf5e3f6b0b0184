namespace LoopDoctor.Bench.Infrastructure;

internal enum RowStatus
{
    /// <summary>Measured; the goal holds.</summary>
    Met,
    /// <summary>Measured; the goal does not hold (the section says why).</summary>
    Missed,
    /// <summary>Smoke mode: the row ran end to end; figures are too short to judge the goal.</summary>
    SmokeOk,
    /// <summary>A prerequisite is missing (CLI not built, wrk absent, ...): the reason is in <see cref="RowResult.Figure"/>.</summary>
    Skipped,
    /// <summary>The harness itself broke: an exception or a process that would not start. Exit code 1.</summary>
    Failed,
}

/// <summary>One row of the summary table plus its section of docs/benchmarks.md.</summary>
internal sealed record RowResult(string Id, string What, string Figure, string Goal, RowStatus Status, string Section)
{
    public static RowResult Skip(BenchRow row, string reason) =>
        new(row.Id, row.What, $"skipped: {reason}", row.Goal, RowStatus.Skipped, $"Skipped: {reason}.\n");

    public string StatusText => Status switch
    {
        RowStatus.Met => "met",
        RowStatus.Missed => "**missed**",
        RowStatus.SmokeOk => "smoke ok",
        RowStatus.Skipped => "skipped",
        _ => "**harness failed**",
    };
}

/// <summary>A row of the suite: an id (P1…P7), what it measures, its goal, and how to run it.</summary>
internal abstract class BenchRow
{
    public abstract string Id { get; }
    public abstract string What { get; }
    public abstract string Goal { get; }

    /// <summary>Title of the row's section in docs/benchmarks.md.</summary>
    public virtual string Title => What;

    /// <summary>Rows that are not part of <c>--smoke</c> unless named with <c>--only</c>.</summary>
    public virtual bool InSmoke => true;

    public abstract Task<RowResult> RunAsync(BenchContext context, CancellationToken cancellationToken);

    protected RowResult Result(string figure, bool met, string section, BenchContext context) =>
        new(Id, What, figure, Goal, context.Smoke ? RowStatus.SmokeOk : met ? RowStatus.Met : RowStatus.Missed, section);
}
