using System.Globalization;
using LoopDoctor.Cli.CommandLine;
using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Projections;
using LoopDoctor.Cli.Sources;
using LoopDoctor.Cli.Reporting;
using LoopDoctor.Cli.Rules;
using LoopDoctor.Cli.Signals;
using LoopDoctor.Cli.Snapshots;
using LoopDoctor.Cli.Targets;

namespace LoopDoctor.Cli.Runs;

/// <summary>How a run ended and what it found.</summary>
internal sealed record DiagnosisOutcome(DiagnosisReport Report, SessionEnd End);

/// <summary>
/// One diagnosis: a source's signals through the admit filter into the pipeline and the observers, the observers'
/// watch loops while it runs, and one report at the end with the agent's presence decided once. Every command runs
/// through it; commands bind options and map the outcome to an exit code.
/// </summary>
internal sealed class DiagnosisRun
{
    private readonly DiagnosisPipeline _pipeline;
    private readonly IReadOnlyList<IRunObserver> _observers;
    private readonly Func<Signal, bool>? _admit;
    private volatile bool _agentMetricsSeen;

    /// <param name="admit">Which signals count (check's warm-up); null: all.</param>
    /// <param name="diagnosis">The rules' thresholds; null: the defaults.</param>
    public DiagnosisRun(IReadOnlyList<IRunObserver>? observers = null, Func<Signal, bool>? admit = null, DiagnosisOptions? diagnosis = null)
    {
        _pipeline = new DiagnosisPipeline(diagnosis);
        _observers = observers ?? [];
        _admit = admit;
    }

    /// <summary>The sink a source feeds, on its reader thread.</summary>
    public void Observe(Signal signal)
    {
        if (_admit is { } admit && !admit(signal))
        {
            return;
        }

        if (signal is MetricHistogram { MeterName: ThreadPoolStatistics.AgentMeter, InstrumentName: ThreadPoolStatistics.QueueDelayInstrument })
        {
            _agentMetricsSeen = true; // the agent's own figures: it runs even if its announcement preceded the session
        }

        _pipeline.Observe(signal);
        foreach (var observer in _observers)
        {
            observer.Observe(signal);
        }
    }

    /// <summary>The report as it reads now (live views, the sidecar) or at the end.</summary>
    public DiagnosisReport Snapshot(ISignalSource source) =>
        _pipeline.BuildReport(source.Info.RuntimeVersion is null && source.Runtime?.Version is { } version ? source.Info with { RuntimeVersion = version.ToString() } : source.Info, source.Elapsed.TotalSeconds, AgentAttachment.Resolve(source.Agent, _pipeline.AgentSeen, _agentMetricsSeen));

    /// <summary>Runs <paramref name="source"/> with the observers watching, then builds the report.</summary>
    /// <param name="watch">One more watch loop for the session's length (monitor's snapshots of stuck threads).</param>
    public async Task<DiagnosisOutcome> RunAsync(ISignalSource source, TimeSpan? duration, CliConsole console, CancellationToken cancellationToken, Func<CancellationToken, Task>? watch = null)
    {
        var view = new RunView(source, () => Snapshot(source));
        using var watching = new CancellationTokenSource();
        var watchers = _observers.Select(o => o.WatchAsync(view, watching.Token)).ToList();
        if (watch is not null)
        {
            watchers.Add(watch(watching.Token));
        }

        SessionEnd end;
        try
        {
            end = await source.RunAsync(duration, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await watching.CancelAsync().ConfigureAwait(false);
            foreach (var watcher in watchers)
            {
                try
                {
                    await watcher.ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }

        if (Environment.GetEnvironmentVariable("LOOPDOCTOR_DEBUG") == "1")
        {
            await console.Error.WriteLineAsync("loopdoctor: signals: " + string.Join(", ", _pipeline.SignalCounts.OrderBy(p => p.Key).Select(p => $"{p.Key}={p.Value}"))).ConfigureAwait(false);
        }

        return new DiagnosisOutcome(Snapshot(source).WithEventsLost(source.EventsLost), end);
    }

    /// <summary>
    /// Attaches to a running process (diagnose, monitor, demo, check -p): the session, the agent found or injected, the
    /// observers, until <paramref name="duration"/>, Ctrl+C or the target's exit.
    /// </summary>
    /// <param name="verb">The banner's verb ("attached to", "checking"); <paramref name="detail"/> ends it.</param>
    /// <param name="explainEnd">Say how the session ended and mark the report (diagnose, monitor); check maps the end to an error itself.</param>
    /// <param name="snapshot">When to take a snapshot of the process (at the end; with WhileRunning also during the session); null: never.</param>
    public async Task<DiagnosisOutcome> AttachAsync(TargetProcess target, LiveSessionOptions options, TimeSpan? duration, CliConsole console, CancellationToken cancellationToken,
        string verb = "attached to", string detail = "", bool explainEnd = true, SnapshotRequest? snapshot = null)
    {
        using var session = await LiveSession.StartAsync(target, Observe, options, console.Error, cancellationToken: cancellationToken).ConfigureAwait(false);
        await console.Error.WriteLineAsync($"loopdoctor: {verb} {target.Name} (pid {target.ProcessId}, {session.Runtime?.ToString() ?? "runtime version unknown"}), " +
                                           $"observing {(duration is { } d ? $"for {Seconds(d)} s" : "until Ctrl+C")}{detail}...").ConfigureAwait(false);
        var request = snapshot is { Mode: not SnapshotMode.Never } ? snapshot : null;
        var schedule = new SnapshotSchedule(request?.Cooldown ?? SnapshotRequest.DefaultCooldown);
        var outcome = await RunAsync(session, duration, console, cancellationToken,
            request is { WhileRunning: true } ? watching => WatchForStuckThreadsAsync(target, request, schedule, session, console, watching) : null).ConfigureAwait(false);
        // At the end: with --snapshot in any case, else when threads are stuck; a snapshot already taken in this episode (monitor) is not taken again.
        if (request is not null && outcome.End == SessionEnd.Completed
            && schedule.Due(request.Mode == SnapshotMode.Always || _pipeline.HasStuckThreads(request.StuckMs), session.Elapsed))
        {
            await SnapshotAsync(target, request, schedule, session, console, cancellationToken).ConfigureAwait(false);
            outcome = outcome with { Report = Snapshot(session).WithEventsLost(session.EventsLost) };
        }

        return explainEnd ? await ExplainEndAsync(outcome, session, console).ConfigureAwait(false) : outcome;
    }

    /// <summary>While the session runs (monitor), a snapshot whenever threads have been stuck long enough, as the schedule allows.</summary>
    private async Task WatchForStuckThreadsAsync(TargetProcess target, SnapshotRequest request, SnapshotSchedule schedule, ISignalSource source, CliConsole console, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(SnapshotRequest.WatchInterval);
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            if (schedule.Due(_pipeline.HasStuckThreads(request.StuckMs), source.Elapsed))
            {
                await SnapshotAsync(target, request, schedule, source, console, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>A snapshot, unless the target is too large for one nobody asked for; either way the pipeline is told.</summary>
    private async Task SnapshotAsync(TargetProcess target, SnapshotRequest request, SnapshotSchedule schedule, ISignalSource source, CliConsole console, CancellationToken cancellationToken)
    {
        schedule.Attempted(source.Elapsed);
        var stuckFor = $"threads have waited for a lock for {Seconds(TimeSpan.FromMilliseconds(request.StuckMs))} s or more";
        var resident = SnapshotRequest.ResidentBytes(target.ProcessId);
        if (request.Mode == SnapshotMode.Auto && !(resident < request.AutoMaxResidentBytes))
        {
            var reason = $"{stuckFor}, but the target " + (resident is { } r ? $"holds {r >> 20} MB" : "is of unknown size") +
                         $": a snapshot would pause it for seconds (P8: 22–33 s for 780 MB); run again with --snapshot to see whether they are deadlocked";
            await console.Error.WriteLineAsync($"loopdoctor: no snapshot: {reason}.").ConfigureAwait(false);
            ObserveSnapshot(new SnapshotFailed(_pipeline.NowMs, reason));
            return;
        }

        await console.Error.WriteLineAsync(request.Mode == SnapshotMode.Always && !_pipeline.HasStuckThreads(request.StuckMs)
            ? $"loopdoctor: taking a snapshot of {target.ProcessId} (a heap dump: the target pauses while it is written)..."
            : $"loopdoctor: {stuckFor}: taking a snapshot of {target.ProcessId} (a heap dump: the target pauses while it is written; --no-snapshot to skip)...").ConfigureAwait(false);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var (taken, failure) = await ProcessSnapshotter.TakeAsync(target.ProcessId, request.KeepDump, cancellationToken).ConfigureAwait(false);
        if (taken is null)
        {
            await console.Error.WriteLineAsync($"loopdoctor: no snapshot: {failure}.").ConfigureAwait(false);
            ObserveSnapshot(new SnapshotFailed(_pipeline.NowMs, failure!));
            return;
        }

        await console.Error.WriteLineAsync($"loopdoctor: snapshot: {ByteText.From(taken.DumpBytes)} dump written in {Seconds(taken.TargetPaused)} s (the target's pause, at most), " +
                                           $"read in {Seconds(watch.Elapsed - taken.TargetPaused)} s; " + (taken.KeptAt is { } path ? $"kept at {path} (it holds the process's memory: secrets too)." : "deleted.")).ConfigureAwait(false);
        ObserveSnapshot(new SnapshotTaken(_pipeline.NowMs, taken));
    }

    // Straight to the pipeline (thread-safe): during the session this runs beside the reader thread, which alone feeds the observers.
    private void ObserveSnapshot(Signal signal) => _pipeline.Observe(signal);

    /// <summary>Lost events, an exited target or an interruption: one line each, and the report marked incomplete where it is.</summary>
    private static async Task<DiagnosisOutcome> ExplainEndAsync(DiagnosisOutcome outcome, ISignalSource source, CliConsole console)
    {
        var report = outcome.Report;
        if (report.EventsLost is var lost and > 0)
        {
            await console.Error.WriteLineAsync($"loopdoctor: the session lost {lost} events (the target produced them faster than they could be read); counts are lower bounds.").ConfigureAwait(false);
        }

        var seconds = source.Elapsed.TotalSeconds;
        switch (outcome.End)
        {
            case SessionEnd.TargetExited:
                await console.Error.WriteLineAsync($"loopdoctor: process {source.Info.ProcessId} exited after {seconds:0.0} s; the report covers what was seen until then.").ConfigureAwait(false);
                report = report with { TargetExited = true, Incomplete = $"the target exited after {seconds.ToString("0.0", CultureInfo.InvariantCulture)} s" };
                break;
            case SessionEnd.Cancelled:
                await console.Error.WriteLineAsync($"loopdoctor: interrupted after {seconds:0.0} s; session stopped.").ConfigureAwait(false);
                break;
        }

        return outcome with { Report = report };
    }

    internal static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture);
}
