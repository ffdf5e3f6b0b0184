using System.CommandLine;
using LoopDoctor.Cli.CommandLine;
using LoopDoctor.Cli.Reporting;
using LoopDoctor.Cli.Rules;
using LoopDoctor.Cli.Runs;
using LoopDoctor.Cli.Snapshots;
using LoopDoctor.Cli.Sources;
using LoopDoctor.Cli.Targets;

namespace LoopDoctor.Cli.Commands;

internal sealed record DiagnoseOptions(int? ProcessId, string? Name, TimeSpan Duration, ReportFormat Format, string? Output, bool NoInject, bool CollectGarbage = false,
    SnapshotMode Snapshot = SnapshotMode.Auto, bool KeepDump = false, TimeSpan? HungAfter = null);

/// <summary><c>loopdoctor diagnose</c>: attach for a duration, then print one report.</summary>
internal static class DiagnoseCommand
{
    public static Command Create(CliConsole console)
    {
        var processId = CommonOptions.ProcessId();
        var name = CommonOptions.ProcessName();
        var duration = CommonOptions.Duration("--duration", "How long to observe the target.", TimeSpan.FromSeconds(10));
        duration.Aliases.Add("-d");
        var format = CommonOptions.Format();
        var output = CommonOptions.Output();
        var noInject = CommonOptions.NoInject();
        var collectGarbage = CommonOptions.CollectGarbage();
        var snapshot = new Option<bool>("--snapshot")
        {
            Description = "At the end, take a snapshot of the target (a heap dump read with ClrMD, deleted afterwards) to name deadlocks, their locks and " +
                          "the threads behind them, even when they formed before the session. Taken anyway when a thread has waited to enter a lock for 5 s or more. " +
                          "Pauses the target while the dump is written; the dump holds the process's memory (secrets too).",
        };
        var noSnapshot = new Option<bool>("--no-snapshot") { Description = "Never take a snapshot, even when threads are stuck." };
        var keepDump = new Option<bool>("--keep-dump") { Description = "Keep the snapshot's dump (in a private temp folder, mode 0700) and print its path." };
        var hungAfter = CommonOptions.Duration("--hung-after", "A thread in the same wait this long, with no deadlock to explain it, is a hung wait.", TimeSpan.FromSeconds(10));
        var command = new Command("diagnose", "Attach to a running .NET process over EventPipe, observe it for a duration and print a diagnosis: " +
                                              "thread-pool starvation, blocking waits (sync-over-async), lock contention, long callbacks, unobserved task exceptions, lag.")
        {
            processId, name, duration, format, output, noInject, collectGarbage, snapshot, noSnapshot, keepDump, hungAfter,
        };
        CommonOptions.RequireOneTarget(command, processId, name);
        command.Validators.Add(result =>
        {
            if (result.GetValue(snapshot) && result.GetValue(noSnapshot))
            {
                result.AddError("Use at most one of --snapshot and --no-snapshot.");
            }
        });
        command.SetAction((result, ct) => RunAsync(
            new DiagnoseOptions(result.GetValue(processId), result.GetValue(name), result.GetValue(duration), result.GetValue(format), result.GetValue(output), result.GetValue(noInject), result.GetValue(collectGarbage),
                result.GetValue(snapshot) ? SnapshotMode.Always : result.GetValue(noSnapshot) ? SnapshotMode.Never : SnapshotMode.Auto, result.GetValue(keepDump), result.GetValue(hungAfter)),
            console, ct));
        return command;
    }

    public static async Task<int> RunAsync(DiagnoseOptions options, CliConsole console, CancellationToken cancellationToken)
    {
        var target = TargetProcess.Resolve(options.ProcessId, options.Name);
        var session = new LiveSessionOptions(!options.NoInject, TimeSpan.FromSeconds(1), CollectGarbage: options.CollectGarbage);
        var diagnosis = new DiagnosisOptions { HungWaitMs = (options.HungAfter ?? TimeSpan.FromSeconds(10)).TotalMilliseconds };
        return (int)await DiagnoseAsync(target, session, options.Duration, options.Format, options.Output, console, cancellationToken,
            new SnapshotRequest(options.Snapshot, options.KeepDump), diagnosis).ConfigureAwait(false);
    }

    /// <summary>Attaches to <paramref name="target"/> for <paramref name="duration"/> and writes the report (also the demo's diagnosis).</summary>
    internal static async Task<ExitCode> DiagnoseAsync(TargetProcess target, LiveSessionOptions session, TimeSpan duration, ReportFormat format, string? output,
        CliConsole console, CancellationToken cancellationToken, SnapshotRequest? snapshot = null, DiagnosisOptions? diagnosis = null)
    {
        var outcome = await new DiagnosisRun(diagnosis: diagnosis).AttachAsync(target, session, duration, console, cancellationToken, snapshot: snapshot).ConfigureAwait(false);
        return await ReportOutput.WriteAsync(outcome.Report, format, output, console).ConfigureAwait(false);
    }
}
