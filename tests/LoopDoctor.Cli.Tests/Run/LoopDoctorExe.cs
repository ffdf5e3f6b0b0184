using LoopDoctor.Testing;

namespace LoopDoctor.Cli.Tests.Run;

/// <summary>The real loopdoctor (dotnet loopdoctor.dll, the agent beside it) as a child process: run/check pass stdio and signals through.</summary>
internal static class LoopDoctorExe
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    public static string Dll => Path.Combine(AppContext.BaseDirectory, "loopdoctor.dll");

    public static string RunTargetDll => RepoPaths.BuiltAssembly("tests/TestTargets/RunTarget", "RunTarget");

    public static string RunTargetAppHost => Path.Combine(RepoPaths.OutputDirectory("tests/TestTargets/RunTarget"), OperatingSystem.IsWindows() ? "RunTarget.exe" : "RunTarget");

    public static TestProcess Start(IEnumerable<string> arguments, IDictionary<string, string?>? environment = null)
    {
        var options = new TestProcessOptions();
        // The test host's own settings must not leak into the child under test.
        options.Environment["GITHUB_STEP_SUMMARY"] = null;
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            options.Environment[name] = value;
        }

        return TestProcess.StartDotnet(Dll, arguments, options);
    }

    public static async Task<(int ExitCode, string Out, string Error)> RunAsync(IEnumerable<string> arguments, IDictionary<string, string?>? environment = null)
    {
        using var process = Start(arguments, environment);
        var exit = await process.WaitForExitAsync(Timeout);
        return (exit, string.Join('\n', process.StdoutLines), string.Join('\n', process.StderrLines));
    }
}
