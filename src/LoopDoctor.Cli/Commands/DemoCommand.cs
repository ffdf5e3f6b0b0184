using System.CommandLine;
using LoopDoctor.Cli.CommandLine;

namespace LoopDoctor.Cli.Commands;

/// <summary><c>loopdoctor demo</c>: starts BlockingApp with a blocking scenario, attaches, prints the diagnosis.</summary>
internal static class DemoCommand
{
    public static Command Create(CliConsole console)
    {
        var command = new Command("demo", "Start samples/BlockingApp under a blocking scenario, attach to it and print the diagnosis.");
        command.SetAction((_, _) =>
            Task.FromException<int>(new LoopDoctorException(ExitCode.UsageError, "demo is not available yet.")));
        return command;
    }
}
