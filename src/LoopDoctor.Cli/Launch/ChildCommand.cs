using System.Diagnostics;

namespace LoopDoctor.Cli.Launch;

/// <summary>
/// How a command is started under the agent. The settings reach the program as environment variables:
/// <c>DOTNET_STARTUP_HOOKS</c> (the agent runs before Main) and <c>DOTNET_DiagnosticPorts=&lt;socket&gt;,connect,suspend</c>
/// (the runtime connects to loopdoctor and waits, before any managed code, until loopdoctor's session is running and it
/// sends ResumeRuntime). https://learn.microsoft.com/dotnet/core/diagnostics/diagnostic-port#configure-additional-diagnostic-ports
/// <para>
/// <c>dotnet run</c> is special: the SDK, MSBuild nodes and the compiler server are .NET processes too and would inherit
/// both variables (each would suspend, and load the agent). So for <c>dotnet run</c> the variables are passed with
/// <c>dotnet run -e NAME=VALUE</c> (SDK 9+), which sets them for the launched app only.
/// </para>
/// </summary>
internal static class ChildCommand
{
    public const string StartupHooksVariable = "DOTNET_STARTUP_HOOKS";
    public const string DiagnosticPortsVariable = "DOTNET_DiagnosticPorts";

    /// <summary>True for <c>dotnet run ...</c>: the app is a grandchild, started after a build.</summary>
    public static bool IsDotnetRun(IReadOnlyList<string> command) =>
        command.Count >= 2 && IsDotnetHost(command[0]) && command[1] == "run";

    public static ProcessStartInfo Create(IReadOnlyList<string> command, string agentPath, string diagnosticPort, bool redirectStdout)
    {
        if (command.Count == 0)
        {
            throw new LoopDoctorException(ExitCode.UsageError, "No command to run: put it after '--', e.g. loopdoctor run -- dotnet MyApp.dll.");
        }

        var hooks = Environment.GetEnvironmentVariable(StartupHooksVariable) is { Length: > 0 } existing
            ? agentPath + Path.PathSeparator + existing
            : agentPath;
        var info = new ProcessStartInfo(command[0])
        {
            UseShellExecute = false,
            RedirectStandardOutput = redirectStdout,
        };
        if (IsDotnetRun(command))
        {
            info.ArgumentList.Add("run");
            info.ArgumentList.Add("-e");
            info.ArgumentList.Add($"{StartupHooksVariable}={hooks}");
            info.ArgumentList.Add("-e");
            info.ArgumentList.Add($"{DiagnosticPortsVariable}={diagnosticPort}");
            foreach (var argument in command.Skip(2))
            {
                info.ArgumentList.Add(argument);
            }
        }
        else
        {
            foreach (var argument in command.Skip(1))
            {
                info.ArgumentList.Add(argument);
            }

            info.Environment[StartupHooksVariable] = hooks;
            info.Environment[DiagnosticPortsVariable] = diagnosticPort;
        }

        return info;
    }

    private static bool IsDotnetHost(string fileName)
    {
        var name = Path.GetFileName(fileName);
        return name is "dotnet" or "dotnet.exe";
    }
}
