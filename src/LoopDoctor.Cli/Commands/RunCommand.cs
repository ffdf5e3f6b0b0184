using System.CommandLine;
using System.Globalization;
using LoopDoctor.Cli.Baselines;
using LoopDoctor.Cli.CommandLine;
using LoopDoctor.Cli.Detectors;
using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Launch;
using LoopDoctor.Cli.Reporting;

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
        var commandArgument = CommandArgument();
        var duration = OptionalDuration("--duration", "Print the diagnosis after this long (like diagnose --duration); the program keeps running. Default: when it exits.");
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
        var failOn = FailOnOption("Exit with 8 instead of the program's exit code when a warning/critical finding of these kinds was found");
        var connectTimeout = ConnectTimeoutOption();
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
        var pipeline = new DiagnosisPipeline();
        LaunchedSession started;
        try
        {
            started = await LaunchedSession.StartAsync(options.Command, options.ConnectTimeout, pipeline, TimeSpan.FromSeconds(1), stdoutTo: null, console.Error, cancellationToken).ConfigureAwait(false);
        }
        catch (LoopDoctorException ex) when (ex.Data[LaunchedSession.ChildExitCodeKey] is int childExitCode)
        {
            // The program ran and exited before the session was up: still its exit code, with a word about the missing report.
            await console.Error.WriteLineAsync($"loopdoctor: {ex.Message}").ConfigureAwait(false);
            return childExitCode;
        }

        await using var launched = started;
        var child = launched.Child;
        var what = options.Duration is { } d ? $"for {d.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s" : "until it exits";
        await console.Error.WriteLineAsync($"loopdoctor: running {child.Name} (pid {child.TargetPid}) with the agent, observing {what}...").ConfigureAwait(false);

        var info = new TargetInfo(child.TargetPid, child.Name);
        using var live = new CancellationTokenSource();
        var view = options.Refresh > TimeSpan.Zero ? PrintLiveAsync(pipeline, launched, info, options.Refresh, console, live.Token) : Task.CompletedTask;
        // Ctrl+C is forwarded to the program (LaunchedChild); the session lasts until it exits, whatever the program decides.
        await launched.Session.RunAsync(options.Duration, CancellationToken.None).ConfigureAwait(false);
        await live.CancelAsync().ConfigureAwait(false);
        await view.ConfigureAwait(false);

        var report = pipeline.BuildReport(info, launched.Session.Elapsed.TotalSeconds, LaunchedSession.AgentOf(pipeline));
        await ReportOutput.WriteAsync(report, options.Format, options.Output, console with { Out = console.Error }).ConfigureAwait(false);
        var exitCode = await child.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        var gated = Culprits.Of(report).Where(c => options.FailOn.Contains(c.Kind)).ToList();
        if (gated.Count > 0)
        {
            await console.Error.WriteLineAsync($"loopdoctor: --fail-on: {string.Join(", ", gated.Select(c => c.Describe()))} (the program exited with {exitCode}).").ConfigureAwait(false);
            return (int)ExitCode.RegressionFound;
        }

        return exitCode;
    }

    private static async Task PrintLiveAsync(DiagnosisPipeline pipeline, LaunchedSession launched, TargetInfo info, TimeSpan refresh, CliConsole console, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(refresh < TimeSpan.FromMilliseconds(100) ? TimeSpan.FromMilliseconds(100) : refresh);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                var snapshot = pipeline.BuildReport(info, launched.Session.Elapsed.TotalSeconds, AgentPresence.Injected);
                await console.Error.WriteLineAsync("loopdoctor: " + MonitorCommand.FormatLine(snapshot)).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    internal static Option<TimeSpan> ConnectTimeoutOption() =>
        CommonOptions.Duration("--connect-timeout", "How long the program may take to connect to loopdoctor's diagnostics port (its runtime does so before Main) before it is judged not .NET " +
                                                    "and stopped. Not applied to 'dotnet run', which builds first.", LaunchedChild.DefaultConnectTimeout);

    /// <summary>Everything after <c>--</c>: the program and its arguments.</summary>
    internal static Argument<string[]> CommandArgument() => new("command")
    {
        Description = "The program to run and its arguments, after '--'.",
        Arity = ArgumentArity.ZeroOrMore,
    };

    internal static Option<TimeSpan?> OptionalDuration(string name, string description) => new(name)
    {
        Description = description + " Accepts 500ms, 10s, 2m or 00:00:10.",
        CustomParser = r => CommonOptions.ParseDuration(r),
    };

    internal static readonly string[] GateableKinds =
    [
        FindingKinds.BlockingWait, FindingKinds.ThreadPoolStarvation, FindingKinds.LongCallback, FindingKinds.LockContention,
        FindingKinds.UnobservedTaskException, FindingKinds.HighLag,
    ];

    internal static Option<string[]> FailOnOption(string description) => new("--fail-on")
    {
        Description = description + ": comma-separated, of " + string.Join(", ", GateableKinds) + ".",
        CustomParser = r =>
        {
            var kinds = r.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Distinct().ToArray();
            foreach (var kind in kinds.Where(k => !GateableKinds.Contains(k)))
            {
                r.AddError($"Unknown finding kind '{kind}' in --fail-on: use {string.Join(", ", GateableKinds)}.");
            }

            return kinds;
        },
    };
}
