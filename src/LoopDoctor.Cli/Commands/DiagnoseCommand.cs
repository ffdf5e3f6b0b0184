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
        var command = new Command("diagnose", "Attach to a running .NET process over EventPipe, observe it for a duration and print a diagnosis: " +
                                              "thread-pool starvation, blocking waits (sync-over-async), lock contention, long callbacks, unobserved task exceptions, lag.")
        {
            processId, name, duration, format, output, noInject, collectGarbage,
        };
        var snapshot = CommonOptions.Snapshot(command, SnapshotWhenStuck);
        CommonOptions.RequireOneTarget(command, processId, name);
        command.SetAction((result, ct) => RunAsync(
            new DiagnoseOptions(result.GetValue(processId), result.GetValue(name), result.GetValue(duration), result.GetValue(format), result.GetValue(output), result.GetValue(noInject), result.GetValue(collectGarbage),
                snapshot.Mode(result), result.GetValue(snapshot.KeepDump), result.GetValue(snapshot.HungAfter)),
            console, ct));
        return command;
    }

    /// <summary>When diagnose and check -p take a snapshot without --snapshot (the --snapshot option's help).</summary>
    internal const string SnapshotWhenStuck = "Taken anyway when a thread has waited to enter a lock for 5 s or more and the target holds under 512 MB.";

    public static async Task<int> RunAsync(DiagnoseOptions options, CliConsole console, CancellationToken cancellationToken)
    {
        var target = TargetProcess.Resolve(options.ProcessId, options.Name);
        var session = new LiveSessionOptions(!options.NoInject, TimeSpan.FromSeconds(1), CollectGarbage: options.CollectGarbage);
        var diagnosis = DiagnosisOptions.WithHungAfter(options.HungAfter);
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
