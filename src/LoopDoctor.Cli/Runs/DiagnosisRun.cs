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
    public async Task<DiagnosisOutcome> RunAsync(ISignalSource source, TimeSpan? duration, CliConsole console, CancellationToken cancellationToken)
    {
        var view = new RunView(source, () => Snapshot(source));
        using var watching = new CancellationTokenSource();
        var watchers = _observers.Select(o => o.WatchAsync(view, watching.Token)).ToList();
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
    /// <param name="snapshot">Whether to take a snapshot of the process at the end (diagnose); null: never.</param>
    public async Task<DiagnosisOutcome> AttachAsync(TargetProcess target, LiveSessionOptions options, TimeSpan? duration, CliConsole console, CancellationToken cancellationToken,
        string verb = "attached to", string detail = "", bool explainEnd = true, SnapshotRequest? snapshot = null)
    {
        using var session = await LiveSession.StartAsync(target, Observe, options, console.Error, cancellationToken: cancellationToken).ConfigureAwait(false);
        await console.Error.WriteLineAsync($"loopdoctor: {verb} {target.Name} (pid {target.ProcessId}, {session.Runtime?.ToString() ?? "runtime version unknown"}), " +
                                           $"observing {(duration is { } d ? $"for {Seconds(d)} s" : "until Ctrl+C")}{detail}...").ConfigureAwait(false);
        var outcome = await RunAsync(session, duration, console, cancellationToken).ConfigureAwait(false);
        if (snapshot is not null && outcome.End == SessionEnd.Completed
            && (snapshot.Mode == SnapshotMode.Always || (snapshot.Mode == SnapshotMode.Auto && _pipeline.HasStuckThreads(snapshot.StuckMs))))
        {
            var resident = SnapshotRequest.ResidentBytes(target.ProcessId);
            if (snapshot.Mode == SnapshotMode.Auto && resident is not < SnapshotRequest.DefaultAutoMaxResidentBytes)
            {
                var reason = $"threads have waited for a lock for {Seconds(TimeSpan.FromMilliseconds(snapshot.StuckMs))} s or more, but the target " +
                             (resident is { } bytes ? $"holds {bytes >> 20} MB" : "is of unknown size") +
                             $": a snapshot would pause it for seconds (P8: 22–33 s for 780 MB); run again with --snapshot to see whether they are deadlocked";
                await console.Error.WriteLineAsync($"loopdoctor: no snapshot: {reason}.").ConfigureAwait(false);
                Observe(new SnapshotFailed(_pipeline.NowMs, reason));
            }
            else
            {
                await TakeSnapshotAsync(target, snapshot, console, cancellationToken).ConfigureAwait(false);
            }

            outcome = outcome with { Report = Snapshot(session).WithEventsLost(session.EventsLost) };
        }

        return explainEnd ? await ExplainEndAsync(outcome, session, console).ConfigureAwait(false) : outcome;
    }

    /// <summary>A heap dump of the target read with ClrMD, fed to the pipeline as one more signal; a failure is said, never fatal.</summary>
    private async Task TakeSnapshotAsync(TargetProcess target, SnapshotRequest request, CliConsole console, CancellationToken cancellationToken)
    {
        await console.Error.WriteLineAsync(request.Mode == SnapshotMode.Always
            ? $"loopdoctor: taking a snapshot of {target.ProcessId} (a heap dump: the target pauses while it is written)..."
            : $"loopdoctor: threads have waited for a lock for {Seconds(TimeSpan.FromMilliseconds(request.StuckMs))} s or more: taking a snapshot of {target.ProcessId} " +
              "(a heap dump: the target pauses while it is written; --no-snapshot to skip)...").ConfigureAwait(false);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var (taken, failure) = await ProcessSnapshotter.TakeAsync(target.ProcessId, request.KeepDump, cancellationToken).ConfigureAwait(false);
        if (taken is null)
        {
            await console.Error.WriteLineAsync($"loopdoctor: no snapshot: {failure}.").ConfigureAwait(false);
            Observe(new SnapshotFailed(_pipeline.NowMs, failure!));
            return;
        }

        await console.Error.WriteLineAsync($"loopdoctor: snapshot: {ByteText.From(taken.DumpBytes)} dump written in {Seconds(taken.TargetPaused)} s (the target's pause, at most), " +
                                           $"read in {Seconds(watch.Elapsed - taken.TargetPaused)} s; " + (taken.KeptAt is { } path ? $"kept at {path} (it holds the process's memory: secrets too)." : "deleted.")).ConfigureAwait(false);
        Observe(new SnapshotTaken(_pipeline.NowMs, taken));
    }

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
