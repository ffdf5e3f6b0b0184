using System.Text.Json;
using System.Text.RegularExpressions;
using LoopDoctor.Cli.Tests.CommandLine;
using LoopDoctor.Testing;

namespace LoopDoctor.Cli.Tests.Integration;

/// <summary>tests/TestTargets/StallTarget, one workload per process, and diagnose's JSON report of it.</summary>
internal static class StallTargets
{
    public static string Dll => RepoPaths.BuiltAssembly("tests/TestTargets/StallTarget", "StallTarget");

    /// <summary>Starts the workload and waits for its "ready" line (a large heap takes a few seconds to build).</summary>
    public static async Task<TestProcess> StartAsync(params string[] arguments)
    {
        var target = TestProcess.StartDotnet(Dll, arguments);
        try
        {
            await target.WaitForLineAsync(new Regex(@"^ready pid=\d+"), TimeSpan.FromSeconds(60));
        }
        catch
        {
            target.Dispose();
            throw;
        }

        return target;
    }

    /// <summary><c>diagnose -p PID --format json</c> (the agent injected unless <paramref name="extra"/> says otherwise).</summary>
    public static async Task<(int ExitCode, JsonElement Report, string Error)> DiagnoseAsync(TestProcess target, string duration, params string[] extra)
    {
        var result = await CliRunner.RunAsync(["diagnose", "-p", target.Pid.ToString(), "--duration", duration, "--format", "json", .. extra]);
        Assert.True(result.Out.Length > 0, result.Error);
        using var document = JsonDocument.Parse(result.Out);
        return (result.ExitCode, document.RootElement.Clone(), result.Error);
    }

    public static JsonElement? Finding(JsonElement report, string kind)
    {
        foreach (var finding in report.GetProperty("findings").EnumerateArray())
        {
            if (finding.GetProperty("kind").GetString() == kind)
            {
                return finding;
            }
        }

        return null;
    }

    public static IEnumerable<string> Kinds(JsonElement report) =>
        report.GetProperty("findings").EnumerateArray().Select(f => $"{f.GetProperty("kind").GetString()}:{f.GetProperty("severity").GetString()}");
}
