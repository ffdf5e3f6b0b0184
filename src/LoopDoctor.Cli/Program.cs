using System.Runtime.InteropServices;
using LoopDoctor.Cli.CommandLine;
using LoopDoctor.Cli.Commands;

namespace LoopDoctor.Cli;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            // First Ctrl+C: stop the session and print the report. A second one kills us as usual.
            if (!stop.IsCancellationRequested)
            {
                e.Cancel = true;
                stop.Cancel();
            }
        };
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stop.Cancel();
        });
        try
        {
            return await LoopDoctorCommandLine.InvokeAsync(args, CliConsole.System, stop.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Last resort: still one line, never a stack trace (set LOOPDOCTOR_DEBUG=1 to see it).
            await Console.Error.WriteLineAsync($"loopdoctor: unexpected error: {ex.GetType().Name}: {ex.Message}").ConfigureAwait(false);
            if (Environment.GetEnvironmentVariable("LOOPDOCTOR_DEBUG") == "1")
            {
                await Console.Error.WriteLineAsync(ex.ToString()).ConfigureAwait(false);
            }

            return (int)ExitCode.SessionFailed;
        }
    }
}
