using System.CommandLine;
using LoopDoctor.Cli.Baselines;
using LoopDoctor.Cli.CommandLine;
using LoopDoctor.Cli.Launch;
using LoopDoctor.Cli.Reporting;
using LoopDoctor.Cli.Runs;

namespace LoopDoctor.Cli.Commands;

internal sealed record RunOptions(IReadOnlyList<string> Command, TimeSpan? Duration, TimeSpan Refresh, ReportFormat Format, string? Output, IReadOnlyList<string> FailOn, TimeSpan ConnectTimeout);

/// <summary>
/// <c>loopdoctor run -- COMMAND</c>: starts a .NET program with the agent as a startup hook and the EventPipe session
/// running before its Main (Launch/), passes its stdin/stdout/stderr through and forwards Ctrl+C/SIGTERM, prints a
/// live line every --refresh and the diagnosis (on stderr) when it exits or after --duration. Exits with the program's
/// exit code, or 8 when --fail-on names a kind that was found.
/// </summary>
internal static class RunCommand
{
    public static Command Create(CliConsole console)
    {
        var commandArgument = CommonOptions.CommandArgument();
        var duration = CommonOptions.OptionalDuration("--duration", "Print the diagnosis after this long (like diagnose --duration); the program keeps running. Default: when it exits.");
        duration.Aliases.Add("-d");
        var refresh = new Option<TimeSpan>("--refresh")
        {
            Description = "How often to print a live line on stderr (0 = never). Accepts 500ms, 10s, 2m or 00:00:10.",
            DefaultValueFactory = _ => TimeSpan.FromSeconds(5),
            // "0" is the one bare number anywhere: it means "never" here, not a duration whose unit is a guess.
            CustomParser = r => r.Tokens is [{ Value: "0" }]
                ? TimeSpan.Zero
                : CommonOptions.ParseDuration(r, allowZero: true, hint: " (0 = no live lines)") ?? TimeSpan.Zero,
        };
        var format = CommonOptions.Format();
        var output = CommonOptions.Output();
        output.Description = "Write the diagnosis to this file (default: stderr, so the program's stdout stays its own).";
        var failOn = CommonOptions.FailOnOption("Exit with 8 instead of the program's exit code when a warning/critical finding of these kinds was found");
        var connectTimeout = CommonOptions.ConnectTimeoutOption();
        var command = new Command("run", "Run a .NET program with the LoopDoctor agent and an EventPipe session from its first instruction (nothing missed at startup). " +
                                         "Usage: loopdoctor run [options] -- dotnet MyApp.dll | ./MyApp | dotnet run --project X. Exits with the program's exit code.")
        {
            commandArgument, duration, refresh, format, output, failOn, connectTimeout,
        };
        command.SetAction((result, ct) => RunAsync(
            new RunOptions(result.GetValue(commandArgument) ?? [], result.GetValue(duration), result.GetValue(refresh), result.GetValue(format), result.GetValue(output), result.GetValue(failOn) ?? [], result.GetValue(connectTimeout)),
            console, ct));
        return command;
    }

    public static async Task<int> RunAsync(RunOptions options, CliConsole console, CancellationToken cancellationToken)
    {
        var run = new DiagnosisRun(options.Refresh > TimeSpan.Zero ? [new LiveView(options.Refresh, console, table: false, prefix: "loopdoctor: ")] : []);
        LaunchedSession started;
        try
        {
            started = await LaunchedSession.StartAsync(options.Command, options.ConnectTimeout, run.Observe, TimeSpan.FromSeconds(1), stdoutTo: null, console.Error, cancellationToken).ConfigureAwait(false);
        }
        catch (LoopDoctorException ex) when (ex.Data[LaunchedSession.ChildExitCodeKey] is int childExitCode)
        {
            // The program ran and exited before the session was up: still its exit code, with a word about the missing report.
            await console.Error.WriteLineAsync($"loopdoctor: {ex.Message}").ConfigureAwait(false);
            return childExitCode;
        }

        await using var launched = started;
        var child = launched.Child;
        var what = options.Duration is { } d ? $"for {DiagnosisRun.Seconds(d)} s" : "until it exits";
        await console.Error.WriteLineAsync($"loopdoctor: running {child.Name} (pid {child.TargetPid}) with the agent, observing {what}...").ConfigureAwait(false);

        // Ctrl+C is forwarded to the program (LaunchedChild); the session lasts until it exits, whatever the program decides.
        var outcome = await run.RunAsync(launched, options.Duration, console, CancellationToken.None).ConfigureAwait(false);
        await ReportOutput.WriteAsync(outcome.Report, options.Format, options.Output, console with { Out = console.Error }).ConfigureAwait(false);
        var exitCode = await child.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        var gated = Culprits.Of(outcome.Report).Where(c => options.FailOn.Contains(c.Kind)).ToList();
        if (gated.Count > 0)
        {
            await console.Error.WriteLineAsync($"loopdoctor: --fail-on: {string.Join(", ", gated.Select(c => c.Describe()))} (the program exited with {exitCode}).").ConfigureAwait(false);
            return (int)ExitCode.RegressionFound;
        }

        return exitCode;
    }
}
