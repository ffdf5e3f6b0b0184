using System.CommandLine;
using System.Globalization;
using LoopDoctor.Cli.Baselines;
using LoopDoctor.Cli.CommandLine;
using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Launch;
using LoopDoctor.Cli.Projections;
using LoopDoctor.Cli.Reporting;
using LoopDoctor.Cli.Rules;
using LoopDoctor.Cli.Runs;
using LoopDoctor.Cli.Snapshots;
using LoopDoctor.Cli.Sources;
using LoopDoctor.Cli.Signals;
using LoopDoctor.Cli.Targets;

namespace LoopDoctor.Cli.Commands;

internal sealed record CheckOptions(
    IReadOnlyList<string> Command,
    int? ProcessId,
    string? BaselinePath,
    bool UpdateBaseline,
    double? MaxQueueDelayP99Ms,
    IReadOnlyList<string> FailOn,
    TimeSpan Duration,
    TimeSpan Warmup,
    string? JUnitPath,
    ReportFormat Format,
    TimeSpan ConnectTimeout,
    bool CollectGarbage = false,
    string? SarifPath = null,
    SnapshotMode Snapshot = SnapshotMode.Auto,
    bool KeepDump = false,
    TimeSpan? HungAfter = null);

/// <summary>
/// <c>loopdoctor check</c>: the CI gate. Runs the command under the agent (as run does) or observes -p PID for --duration,
/// ignores the first --warmup (by event timestamps), then judges the findings against the baseline and thresholds
/// (Baselines/CheckJudge). Exit codes: 0 passed, 8 a rule failed, anything else the check could not run (docs/ci.md).
/// </summary>
internal static class CheckCommand
{
    public const string DefaultBaseline = "loopdoctor-baseline.json";

    private static readonly TimeSpan DefaultDuration = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan DefaultWarmup = TimeSpan.FromSeconds(2);

    private static TimeSpan ValueOrDefault(System.CommandLine.Parsing.CommandResult result, Option<TimeSpan> option, TimeSpan defaultValue) =>
        result.GetResult(option) is { Implicit: false } ? result.GetValue(option) : defaultValue;

    public static Command Create(CliConsole console)
    {
        var commandArgument = CommonOptions.CommandArgument();
        var processId = CommonOptions.ProcessId();
        processId.Description = "Observe this running .NET process instead of starting a command.";
        var baseline = new Option<string>("--baseline", "-b")
        {
            Description = "The baseline file: accepted culprit call sites per finding kind and queue-delay percentiles. A missing file is an empty baseline.",
            DefaultValueFactory = _ => DefaultBaseline,
        };
        var update = new Option<bool>("--update-baseline") { Description = "Accept the current state: write it to the baseline file (then judge the other rules)." };
        var maxP99 = CommonOptions.OptionalDuration("--max-queue-delay-p99", "Fail when the thread-pool queue-delay p99 is over this (e.g. 50ms).");
        var failOn = CommonOptions.FailOnOption("Fail when a warning/critical finding of these kinds is found, even if the baseline accepts it");
        var duration = CommonOptions.Duration("--duration", "How long to observe, warm-up included.", DefaultDuration);
        duration.Aliases.Add("-d");
        var warmup = CommonOptions.Duration("--warmup", "The first part of --duration that is not judged (startup: JIT, connection pools, caches).", DefaultWarmup);
        var junit = new Option<string?>("--junit") { Description = "Also write a JUnit XML file: one test case per rule, failures with the call site and the fix." };
        var sarif = new Option<string?>("--sarif") { Description = "Also write a SARIF 2.1.0 file (code scanning): one result per new culprit call site, its frames as logical locations." };
        var format = CommonOptions.Format();
        var connectTimeout = CommonOptions.ConnectTimeoutOption();
        var collectGarbage = CommonOptions.CollectGarbage();
        collectGarbage.Description += " With -p only.";
        var command = new Command("check", "CI regression gate: run a command under the agent (or observe -p PID) and fail on a new culprit call site, a --fail-on finding kind, " +
                                           "or a queue-delay p99 over the threshold or the baseline's tolerance. Exit codes: 0 passed, 8 regression, other: could not run.")
        {
            commandArgument, processId, baseline, update, maxP99, failOn, duration, warmup, junit, sarif, format, connectTimeout, collectGarbage,
        };
        var snapshot = CommonOptions.Snapshot(command, DiagnoseCommand.SnapshotWhenStuck + " With -p only.");
        command.Validators.Add(result =>
        {
            var hasCommand = result.GetValue(commandArgument) is { Length: > 0 };
            var hasPid = result.GetResult(processId) is not null;
            if (hasCommand == hasPid)
            {
                result.AddError("Give check either a command after '--' or --process-id (-p), not both.");
            }

            if (hasCommand && snapshot.Given(result))
            {
                result.AddError("--snapshot, --no-snapshot and --keep-dump need --process-id (-p): a launched command is not snapshotted.");
            }

            // A validator sees default(T) for an option not given (its default is made later): the defaults are compared then.
            if (ValueOrDefault(result, warmup, DefaultWarmup) >= ValueOrDefault(result, duration, DefaultDuration))
            {
                result.AddError("--warmup must be shorter than --duration.");
            }
        });
        command.SetAction((result, ct) => RunAsync(
            new CheckOptions(result.GetValue(commandArgument) ?? [], result.GetValue(processId), result.GetValue(baseline), result.GetValue(update),
                result.GetValue(maxP99)?.TotalMilliseconds, result.GetValue(failOn) ?? [], result.GetValue(duration), result.GetValue(warmup),
                result.GetValue(junit), result.GetValue(format), result.GetValue(connectTimeout), result.GetValue(collectGarbage), result.GetValue(sarif),
                snapshot.Mode(result), result.GetValue(snapshot.KeepDump), result.GetValue(snapshot.HungAfter)),
            console, ct));
        return command;
    }

    public static async Task<int> RunAsync(CheckOptions options, CliConsole console, CancellationToken cancellationToken)
    {
        // A bad baseline is known before anything starts.
        var path = options.BaselinePath;
        var found = path is not null && File.Exists(path);
        var baseline = found && !options.UpdateBaseline ? Baseline.Load(path!) : Baseline.Empty;
        var warmupMs = options.Warmup.TotalMilliseconds;
        // Event timestamps count from the session's start; the pool-thread registry and the agent's announcement are
        // evidence about the process, not findings, so they are kept from the start.
        var intervals = new QueueDelayIntervals();
        var run = new DiagnosisRun([new SignalObserver(intervals.Observe)], admit: s => s.TimestampMs >= warmupMs || s is PoolThreadSeen or AgentStarted,
            DiagnosisOptions.WithHungAfter(options.HungAfter));
        var report = options.ProcessId is { } pid
            ? await ObserveProcessAsync(pid, run, options, console, cancellationToken).ConfigureAwait(false)
            : await ObserveCommandAsync(run, options, console, cancellationToken).ConfigureAwait(false);

        if (options.UpdateBaseline && path is not null)
        {
            baseline = Baseline.FromReport(report, intervals.Typical());
            baseline.Save(path);
            found = true;
            await console.Error.WriteLineAsync($"loopdoctor: baseline written to {path} ({baseline.CallSites.Sum(p => p.Value.Count)} accepted call site(s)).").ConfigureAwait(false);
        }

        var rules = CheckJudge.Judge(report, intervals.Typical(), baseline, found, new CheckThresholds(options.MaxQueueDelayP99Ms, options.FailOn));
        var result = new CheckResult(report, intervals.Typical(), rules, path, found, options.Warmup.TotalSeconds);
        Reporters.Write(result, options.Format, console.Out);
        await console.Out.FlushAsync().ConfigureAwait(false);
        if (options.JUnitPath is { } junit)
        {
            JUnitWriter.Write(result, junit);
        }

        if (options.SarifPath is { } sarifPath)
        {
            var appDirectory = SourceLocations.AppDirectory(options.ProcessId is { } p ? TargetProcess.Describe(p).CommandLine.Split(' ') : options.Command);
            var sources = appDirectory is null ? SourceLocations.None : SourceLocations.FromDirectory(appDirectory);
            if (sources.Count == 0)
            {
                await console.Error.WriteLineAsync("loopdoctor: --sarif: no portable PDB found beside the app's assemblies" +
                                                   (appDirectory is null ? " (no .dll or executable in the command)" : $" in {appDirectory}") +
                                                   ": results carry logical locations only (method names, no file or line).").ConfigureAwait(false);
            }

            SarifWriter.Write(result, sources, sarifPath);
        }

        GitHubStepSummaryWriter.Append(result, console.Error);
        return (int)(result.Passed ? ExitCode.Ok : ExitCode.RegressionFound);
    }

    private static async Task<DiagnosisReport> ObserveCommandAsync(DiagnosisRun run, CheckOptions options, CliConsole console, CancellationToken cancellationToken)
    {
        // The program's stdout goes to our stderr: check's stdout is the verdict (text, JSON or Markdown) alone.
        await using var launched = await LaunchedSession.StartAsync(options.Command, options.ConnectTimeout, run.Observe, TimeSpan.FromSeconds(1), console.Error, console.Error, cancellationToken).ConfigureAwait(false);
        var child = launched.Child;
        await console.Error.WriteLineAsync($"loopdoctor: checking {child.Name} (pid {child.TargetPid}) for {Seconds(options.Duration)} s, warm-up {Seconds(options.Warmup)} s...").ConfigureAwait(false);
        var outcome = await run.RunAsync(launched, options.Duration, console, cancellationToken).ConfigureAwait(false);
        if (outcome.End == SessionEnd.TargetExited || child.HasExited)
        {
            var code = await child.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            throw new LoopDoctorException(ExitCode.TargetExited,
                $"{child.Name} exited with code {code} after {Seconds(launched.Elapsed)} s, before the {Seconds(options.Duration)} s check ended: nothing to judge (the check could not run).");
        }

        ThrowIfInterrupted(outcome);
        var exitCode = await child.StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        await console.Error.WriteLineAsync($"loopdoctor: stopped {child.Name} (exit code {exitCode}).").ConfigureAwait(false);
        return outcome.Report;
    }

    private static async Task<DiagnosisReport> ObserveProcessAsync(int pid, DiagnosisRun run, CheckOptions options, CliConsole console, CancellationToken cancellationToken)
    {
        var target = TargetProcess.Resolve(pid, null);
        var outcome = await run.AttachAsync(target, new LiveSessionOptions(Inject: true, TimeSpan.FromSeconds(1), CollectGarbage: options.CollectGarbage), options.Duration, console, cancellationToken,
            verb: "checking", detail: $", warm-up {Seconds(options.Warmup)} s", explainEnd: false, snapshot: new SnapshotRequest(options.Snapshot, options.KeepDump)).ConfigureAwait(false);
        if (outcome.End == SessionEnd.TargetExited)
        {
            throw new LoopDoctorException(ExitCode.TargetExited,
                $"Process {pid} exited after {outcome.Report.DurationSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s, before the {Seconds(options.Duration)} s check ended: nothing to judge (the check could not run).");
        }

        ThrowIfInterrupted(outcome);
        return outcome.Report;
    }

    private static void ThrowIfInterrupted(DiagnosisOutcome outcome)
    {
        if (outcome.End == SessionEnd.Cancelled)
        {
            throw new LoopDoctorException(ExitCode.SessionFailed, "Interrupted before the check ended: nothing judged (the check could not run).");
        }
    }

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture);
}
