using System.Text.Json;
using LoopDoctor.Cli.CommandLine;
using LoopDoctor.Cli.Commands;

namespace LoopDoctor.Cli.Tests.Integration;

/// <summary><c>monitor --all --name</c>: finds the running .NET processes of that name and reports each, as a JSON array.</summary>
[Collection(RealProcessCollection.Name)]
public class MonitorAllTests
{
    [Fact]
    public async Task Monitor_all_by_name_reports_every_process_of_that_name_as_a_JSON_array()
    {
        using var first = await TargetApp.StartAsync("healthy");
        using var second = await TargetApp.StartAsync("sync-over-async");
        var output = new StringWriter();
        var error = new StringWriter();
        var console = new CliConsole(TextWriter.Synchronized(output), TextWriter.Synchronized(error), false);

        var exitCode = await LoopDoctorCommandLine.InvokeAsync(
            ["monitor", "--all", "-n", "LoopDoctor.TestTarget", "--no-inject", "--duration", "6s", "--refresh", "2s", "--format", "json"], console, CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(60));

        using var reports = JsonDocument.Parse(output.ToString());
        var pids = reports.RootElement.EnumerateArray().Select(r => r.GetProperty("target").GetProperty("processId").GetInt32()).ToList();
        // Contains, not equals: another LoopDoctor.TestTarget of this user may run beside the test.
        Assert.True(pids.Contains(first.ProcessId) && pids.Contains(second.ProcessId), $"pids {string.Join(",", pids)}; stderr:\n{error}");
        Assert.Contains(exitCode, new[] { (int)ExitCode.Ok, (int)ExitCode.FindingsPresent });
        Assert.Contains($"pid {first.ProcessId} LoopDoctor.TestTarget:", error.ToString()); // the live view lists each process
    }
}
