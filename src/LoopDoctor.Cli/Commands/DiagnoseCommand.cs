using System.CommandLine;
using LoopDoctor.Cli.CommandLine;
using LoopDoctor.Cli.Reporting;
using LoopDoctor.Cli.Runs;
using LoopDoctor.Cli.Sources;
using LoopDoctor.Cli.Targets;

namespace LoopDoctor.Cli.Commands;

internal sealed record DiagnoseOptions(int? ProcessId, string? Name, TimeSpan Duration, ReportFormat Format, string? Output, bool NoInject, bool CollectGarbage = false);

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
        CommonOptions.RequireOneTarget(command, processId, name);
        command.SetAction((result, ct) => RunAsync(
            new DiagnoseOptions(result.GetValue(processId), result.GetValue(name), result.GetValue(duration), result.GetValue(format), result.GetValue(output), result.GetValue(noInject), result.GetValue(collectGarbage)),
            console, ct));
        return command;
    }

    public static async Task<int> RunAsync(DiagnoseOptions options, CliConsole console, CancellationToken cancellationToken)
    {
        var target = TargetProcess.Resolve(options.ProcessId, options.Name);
        var session = new LiveSessionOptions(!options.NoInject, TimeSpan.FromSeconds(1), CollectGarbage: options.CollectGarbage);
        return (int)await DiagnoseAsync(target, session, options.Duration, options.Format, options.Output, console, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Attaches to <paramref name="target"/> for <paramref name="duration"/> and writes the report (also the demo's diagnosis).</summary>
    internal static async Task<ExitCode> DiagnoseAsync(TargetProcess target, LiveSessionOptions session, TimeSpan duration, ReportFormat format, string? output,
        CliConsole console, CancellationToken cancellationToken)
    {
        var outcome = await new DiagnosisRun().AttachAsync(target, session, duration, console, cancellationToken).ConfigureAwait(false);
        return await ReportOutput.WriteAsync(outcome.Report, format, output, console).ConfigureAwait(false);
    }
}
