using System.CommandLine;
using LoopDoctor.Cli.CommandLine;
using LoopDoctor.Cli.Targets;

namespace LoopDoctor.Cli.Commands;

/// <summary><c>loopdoctor ps</c>: .NET processes that expose a diagnostics port.</summary>
internal static class PsCommand
{
    public static Command Create(CliConsole console)
    {
        var command = new Command("ps", "List the .NET processes that expose a diagnostics port (pid, name, agent loaded, command line).");
        command.SetAction((_, ct) => RunAsync(console, ct));
        return command;
    }

    public static async Task<int> RunAsync(CliConsole console, CancellationToken cancellationToken)
    {
        var processes = TargetProcess.List();
        if (processes.Count == 0)
        {
            await console.Error.WriteLineAsync("loopdoctor: no .NET process with a diagnostics port is running.").ConfigureAwait(false);
            return (int)ExitCode.Ok;
        }

        var nameWidth = Math.Max(4, processes.Max(p => p.Name.Length));
        await console.Out.WriteLineAsync($"{"PID",7}  {"NAME".PadRight(nameWidth)}  AGENT  COMMAND LINE").ConfigureAwait(false);
        foreach (var p in processes)
        {
            var agent = p.AgentLoaded switch { true => "yes", false => "no", null => "?" };
            await console.Out.WriteLineAsync($"{p.ProcessId,7}  {p.Name.PadRight(nameWidth)}  {agent,-5}  {p.CommandLine}").ConfigureAwait(false);
        }

        return (int)ExitCode.Ok;
    }
}
