using System.CommandLine;
using System.Diagnostics;
using System.Text.RegularExpressions;
using LoopDoctor.Cli.CommandLine;
using LoopDoctor.Cli.Reporting;
using LoopDoctor.Cli.Sources;
using LoopDoctor.Cli.Targets;

namespace LoopDoctor.Cli.Commands;

internal sealed record DemoOptions(string Scenario, TimeSpan Duration, ReportFormat Format, string? Project, string? Output = null);

/// <summary>
/// <c>loopdoctor demo</c>: starts samples/BlockingApp (without its embedded agent) under one blocking scenario and its
/// built-in load, attaches, prints the diagnosis and stops the app.
/// </summary>
internal static partial class DemoCommand
{
    public static Command Create(CliConsole console)
    {
        var scenario = new Option<string>("--scenario", "-s")
        {
            Description = "BlockingApp scenario to run: sync-over-async, wait, sleep, cpu, lock, sync-io, fire-and-forget, too-many-tasks, timeout, healthy.",
            DefaultValueFactory = _ => "sync-over-async",
        };
        var duration = CommonOptions.Duration("--duration", "How long to observe the app.", TimeSpan.FromSeconds(10));
        var format = CommonOptions.Format();
        var output = CommonOptions.Output();
        var project = new Option<string?>("--project") { Description = "Path to BlockingApp.csproj (default: samples/BlockingApp found from the current directory up)." };
        var command = new Command("demo", "Start samples/BlockingApp with a blocking scenario under load, attach to it and print the diagnosis.")
        {
            scenario, duration, format, output, project,
        };
        command.SetAction((r, ct) => RunAsync(new DemoOptions(r.GetValue(scenario)!, r.GetValue(duration), r.GetValue(format), r.GetValue(project), r.GetValue(output)), console, ct));
        return command;
    }

    [GeneratedRegex(@"ready .*pid=(\d+)")]
    private static partial Regex ReadyLine();

    public static async Task<int> RunAsync(DemoOptions options, CliConsole console, CancellationToken cancellationToken)
    {
        var project = options.Project ?? FindProject()
            ?? throw new LoopDoctorException(ExitCode.TargetNotFound, "samples/BlockingApp/BlockingApp.csproj was not found from the current directory; run the demo from the repository or pass --project.");
        if (!File.Exists(project))
        {
            throw new LoopDoctorException(ExitCode.TargetNotFound, $"'{project}' does not exist.");
        }

        var load = options.Duration + TimeSpan.FromSeconds(60);
        var info = new ProcessStartInfo("dotnet", ["run", "--project", project, "-c", "Release", "--", "--no-agent", "--scenario", options.Scenario, "--rps", "50", "--duration", $"{(int)load.TotalSeconds}s"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        await console.Error.WriteLineAsync($"loopdoctor: starting BlockingApp ({options.Scenario}, 50 requests/s); the first build takes a while...").ConfigureAwait(false);
        using var app = Process.Start(info) ?? throw new LoopDoctorException(ExitCode.SessionFailed, "Could not start 'dotnet run'.");
        var ready = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        app.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null && ReadyLine().Match(e.Data) is { Success: true } m)
            {
                ready.TrySetResult(int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
            }
        };
        app.ErrorDataReceived += (_, _) => { };
        app.BeginOutputReadLine();
        app.BeginErrorReadLine();
        try
        {
            var exited = app.WaitForExitAsync(cancellationToken);
            var first = await Task.WhenAny(ready.Task, exited, Task.Delay(TimeSpan.FromMinutes(3), cancellationToken)).ConfigureAwait(false);
            if (first != ready.Task)
            {
                throw new LoopDoctorException(ExitCode.SessionFailed, cancellationToken.IsCancellationRequested
                    ? "Interrupted before BlockingApp was ready."
                    : "BlockingApp did not print its 'ready' line (build failed or wrong scenario?).");
            }

            var pid = await ready.Task.ConfigureAwait(false);
            var target = TargetProcess.Describe(pid);
            await DiagnoseCommand.DiagnoseAsync(target, new LiveSessionOptions(Inject: true, TimeSpan.FromSeconds(1)), options.Duration, options.Format, options.Output, console, cancellationToken)
                .ConfigureAwait(false);
            // The patient is sick on purpose: a demo that produced its diagnosis succeeded (diagnose exits 1 on findings).
            return (int)ExitCode.Ok;
        }
        finally
        {
            try
            {
                app.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
            }
        }
    }

    private static string? FindProject()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "samples", "BlockingApp", "BlockingApp.csproj");
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }
}
