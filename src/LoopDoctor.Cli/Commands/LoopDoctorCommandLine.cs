using System.CommandLine;
using System.CommandLine.Invocation;
using LoopDoctor.Cli.CommandLine;

namespace LoopDoctor.Cli.Commands;

/// <summary>The root command and the top-level error handling: one line on stderr, a documented exit code, no stack trace.</summary>
internal static class LoopDoctorCommandLine
{
    public static RootCommand Create(CliConsole console) =>
        new("loopdoctor: finds out why a .NET process's thread pool and async code are slow, and names the call site to fix.")
        {
            PsCommand.Create(console),
            DiagnoseCommand.Create(console),
            MonitorCommand.Create(console),
            AnalyzeCommand.Create(console),
            DemoCommand.Create(console),
            RunCommand.Create(console),
            CheckCommand.Create(console),
        };

    public static async Task<int> InvokeAsync(string[] args, CliConsole console, CancellationToken cancellationToken)
    {
        var root = Create(console);
        var parseResult = root.Parse(args);
        if (parseResult.Errors.Count > 0 && parseResult.Action is ParseErrorAction or null)
        {
            foreach (var error in parseResult.Errors)
            {
                await console.Error.WriteLineAsync($"loopdoctor: {error.Message}").ConfigureAwait(false);
            }

            await console.Error.WriteLineAsync("Run 'loopdoctor --help' for usage.").ConfigureAwait(false);
            return (int)ExitCode.UsageError;
        }

        try
        {
            var configuration = new InvocationConfiguration
            {
                Output = console.Out,
                Error = console.Error,
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null, // Ctrl+C is ours: it stops the session and still prints the report.
            };
            return await parseResult.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
        }
        catch (LoopDoctorException ex)
        {
            await console.Error.WriteLineAsync($"loopdoctor: {ex.Message}").ConfigureAwait(false);
            return (int)ex.ExitCode;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await console.Error.WriteLineAsync("loopdoctor: interrupted.").ConfigureAwait(false);
            return (int)ExitCode.Ok;
        }
    }
}
