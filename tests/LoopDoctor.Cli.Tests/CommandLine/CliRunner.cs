using LoopDoctor.Cli.CommandLine;
using LoopDoctor.Cli.Commands;

namespace LoopDoctor.Cli.Tests.CommandLine;

/// <summary>Runs loopdoctor in-process with captured stdout/stderr (the real command line, parser and commands).</summary>
internal static class CliRunner
{
    public sealed record Result(int ExitCode, string Out, string Error);

    public static async Task<Result> RunAsync(params string[] args) => await RunAsync(CancellationToken.None, args);

    public static async Task<Result> RunAsync(CancellationToken cancellationToken, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await LoopDoctorCommandLine.InvokeAsync(args, new CliConsole(TextWriter.Synchronized(output), TextWriter.Synchronized(error), false), cancellationToken);
        return new Result(exit, output.ToString(), error.ToString());
    }
}
