using System.Globalization;
using System.Text.Json;
using LoopDoctor.Cli.Tests.CommandLine;
using LoopDoctor.Cli.Tests.Run;
using LoopDoctor.Testing;
using Xunit.Abstractions;

namespace LoopDoctor.Cli.Tests.Integration;

/// <summary>
/// What LoopDoctor names on .NET 8, 9 and 10 (issue 15; the table in docs/cli.md): SurvivalTarget runs one of its
/// workloads (tests/TestTargets/SurvivalTarget/Workloads.cs, written as application code is) and says when it has run
/// for a few seconds; <c>loopdoctor diagnose --no-inject</c> then attaches, as to a service that already hangs (with the
/// agent injected where only the agent sees the signal: unobserved task exceptions).
/// </summary>
[Collection(RealProcessCollection.Name)]
[Trait("Category", "Survival")]
public sealed class RuntimeCoverageTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("net8.0")]
    [InlineData("net9.0")]
    [InlineData("net10.0")]
    public async Task Sync_over_async_is_starvation_with_its_blocking_wait_on_every_runtime(string framework)
    {
        var (target, report) = await DiagnoseAsync(framework, "sync-over-async");

        Assert.Equal("starving", report.GetProperty("verdict").GetString());
        var wait = Finding(report, "blocking-wait");
        Assert.Contains(wait.GetProperty("callSites").EnumerateArray(), c => c.GetProperty("blockingApi").GetString() == "GetAwaiter().GetResult()");
        // .NET 8 emits no WaitHandle events: the waits come from the stack samples, and the finding says so.
        var estimated = wait.TryGetProperty("estimated", out var flag) && flag.GetBoolean();
        Assert.Equal(target.Major < 9, estimated);
    }

    [Theory]
    [InlineData("net8.0")]
    [InlineData("net9.0")]
    public async Task A_lock_held_across_slow_work_is_lock_contention_at_its_method(string framework)
    {
        var (_, report) = await DiagnoseAsync(framework, "lock");

        // The application's lock is named where it is taken (framework locks, if any, are another finding or folded elsewhere).
        Assert.Contains(Findings(report, "lock-contention"), f => f.GetProperty("callSites").EnumerateArray()
            .Any(c => c.GetProperty("frames").EnumerateArray().FirstOrDefault().ValueKind == JsonValueKind.String
                      && c.GetProperty("frames")[0].GetString() == "InventoryCache.Refresh"));
    }

    [Theory]
    [InlineData("net8.0")]
    [InlineData("net9.0")]
    public async Task A_long_computation_is_a_long_callback_at_its_method(string framework)
    {
        var (_, report) = await DiagnoseAsync(framework, "cpu");

        Assert.Equal("MonthlyReport.Build", Finding(report, "long-callback").GetProperty("callSites")[0].GetProperty("frames")[0].GetString());
    }

    [Theory]
    [InlineData("net8.0")]
    [InlineData("net9.0")]
    public async Task A_fire_and_forget_failure_is_an_unobserved_task_exception_through_the_injected_agent(string framework)
    {
        var (_, report) = await DiagnoseAsync(framework, "unobserved", inject: true);

        Assert.Equal("injected", report.GetProperty("agent").GetString());
        Assert.Equal("System.InvalidOperationException", Finding(report, "unobserved-task-exception").GetProperty("exceptionType").GetString());
    }

    [Fact]
    public async Task A_recorded_net8_trace_is_analyzed_offline_with_its_waits_estimated_from_stack_samples()
    {
        using var target = await RuntimeTargets.StartAsync("net8.0", workload: "sync-over-async");
        await target.Process.WaitForLineAsync("^workload warm$", RuntimeTargets.ReadyTimeout);
        var path = Path.Combine(Path.GetTempPath(), $"loopdoctor-net8-{Guid.NewGuid():N}.nettrace");
        try
        {
            await TraceRecorder.RecordAsync(target.Pid, path, TimeSpan.FromSeconds(5));
            target.Dispose();

            var result = await CliRunner.RunAsync("analyze", path, "--format", "json");
            output.WriteLine($"analyze exited with {result.ExitCode}{Environment.NewLine}{result.Error}");
            Assert.Equal((int)ExitCode.FindingsPresent, result.ExitCode);
            using var document = JsonDocument.Parse(result.Out);
            var report = document.RootElement;
            Assert.Equal("file", report.GetProperty("source").GetString());
            Assert.Equal(target.RuntimeVersion.ToString(3), report.GetProperty("target").GetProperty("runtimeVersion").GetString());
            var wait = Finding(report, "blocking-wait");
            Assert.True(wait.GetProperty("estimated").GetBoolean(), wait.ToString());
            Assert.Contains(wait.GetProperty("callSites").EnumerateArray(), c => c.GetProperty("blockingApi").GetString() == "GetAwaiter().GetResult()");
        }
        finally
        {
            File.Delete(path);
        }
    }

    private async Task<((int Major, string Version) Target, JsonElement Report)> DiagnoseAsync(string framework, string workload, bool inject = false)
    {
        using var target = await RuntimeTargets.StartAsync(framework, workload: workload);
        output.WriteLine(RuntimeTargets.PublishLog(framework));
        await target.Process.WaitForLineAsync("^workload warm$", RuntimeTargets.ReadyTimeout);

        using var cli = LoopDoctorExe.Start(["diagnose", "-p", target.Pid.ToString(CultureInfo.InvariantCulture), "--duration", "6s", "--format", "json",
            .. inject ? Array.Empty<string>() : ["--no-inject"]]);
        var exit = await cli.WaitForExitAsync(LoopDoctorExe.Timeout);
        output.WriteLine($"{target}: loopdoctor exited with {exit}{Environment.NewLine}{cli.DescribeOutput()}");
        Assert.True(exit is (int)ExitCode.Ok or (int)ExitCode.FindingsPresent, cli.DescribeOutput());
        // A blocked pool thread opens the wait-context burst; .NET 8 refused its stackless session until the CLI fell
        // back to one with stacks, and its waits then lost their endpoints (docs/accuracy.md, session 10).
        Assert.DoesNotContain(cli.StderrLines, line => line.Contains("could not read task events and request markers", StringComparison.Ordinal));

        using var document = JsonDocument.Parse(string.Join(Environment.NewLine, cli.StdoutLines));
        var report = document.RootElement.Clone();
        var version = target.RuntimeVersion.ToString(3);
        Assert.Equal(version, report.GetProperty("target").GetProperty("runtimeVersion").GetString());
        return ((target.RuntimeVersion.Major, version), report);
    }

    private static List<JsonElement> Findings(JsonElement report, string kind)
    {
        var findings = report.GetProperty("findings").EnumerateArray().Where(f => f.GetProperty("kind").GetString() == kind).ToList();
        Assert.True(findings.Count > 0, $"no {kind} finding in {report}");
        return findings;
    }

    private static JsonElement Finding(JsonElement report, string kind)
    {
        var finding = report.GetProperty("findings").EnumerateArray().FirstOrDefault(f => f.GetProperty("kind").GetString() == kind);
        Assert.True(finding.ValueKind == JsonValueKind.Object, $"no {kind} finding in {report}");
        return finding;
    }
}
