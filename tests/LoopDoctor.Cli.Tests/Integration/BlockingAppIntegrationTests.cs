using System.Text.Json;
using LoopDoctor.Cli.Tests.CommandLine;

namespace LoopDoctor.Cli.Tests.Integration;

/// <summary>
/// samples/BlockingApp under its built-in open-loop load, diagnosed for real: each scenario yields its finding kind with
/// the culprit method as the top call site; /healthy and the ?fixed=true twins yield no warning or critical finding.
/// Runs when BlockingApp is built next to these tests (or LOOPDOCTOR_BLOCKINGAPP_DLL points at it).
/// </summary>
[Collection(RealProcessCollection.Name)]
public class BlockingAppIntegrationTests
{
    private static string? BlockingAppDll
    {
        get
        {
            if (Environment.GetEnvironmentVariable("LOOPDOCTOR_BLOCKINGAPP_DLL") is { Length: > 0 } overridden)
            {
                return overridden;
            }

            // tests/LoopDoctor.Cli.Tests/bin/<Configuration>/net10.0 → samples/BlockingApp/bin/<Configuration>/net10.0
            var dir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var repo = dir.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
            var dll = Path.Combine(repo, "samples", "BlockingApp", "bin", dir.Parent.Name, dir.Name, "BlockingApp.dll");
            return File.Exists(dll) ? dll : null;
        }
    }

    private static async Task<(int ExitCode, JsonElement Report, string Error)?> DiagnoseAsync(string scenario, int rps, bool isFixed = false, string duration = "5s", bool agent = true, bool inject = false, bool collectGarbage = false)
    {
        if (BlockingAppDll is not { } dll)
        {
            return null;
        }

        string[] args = ["--scenario", scenario, "--rps", rps.ToString(), .. isFixed ? new[] { "--fixed" } : [], .. agent ? [] : new[] { "--no-agent" }];
        using var app = await TargetApp.StartAsync(dll, args);
        string[] cli = ["diagnose", "-p", app.ProcessId.ToString(), "--duration", duration, "--format", "json", .. inject ? [] : new[] { "--no-inject" }, .. collectGarbage ? new[] { "--collect-garbage" } : []];
        var result = await CliRunner.RunAsync(cli);
        Assert.True(result.Out.Length > 0, result.Error);
        using var doc = JsonDocument.Parse(result.Out);
        return (result.ExitCode, doc.RootElement.Clone(), result.Error);
    }

    private static JsonElement Finding(JsonElement report, string kind) =>
        report.GetProperty("findings").EnumerateArray().FirstOrDefault(f => f.GetProperty("kind").GetString() == kind);

    private static void AssertCulprit(JsonElement report, string kind, string culprit)
    {
        var finding = Finding(report, kind);
        Assert.True(finding.ValueKind == JsonValueKind.Object, $"no {kind} finding in {report}");
        Assert.NotEqual("info", finding.GetProperty("severity").GetString());
        Assert.Equal(culprit, finding.GetProperty("callSites")[0].GetProperty("frames")[0].GetString());
    }

    [Fact]
    public async Task Sync_over_async_is_a_blocking_wait_at_FetchReportBlocking_with_starvation()
    {
        if (await DiagnoseAsync("sync-over-async", 50) is not var (exit, report, _))
        {
            return;
        }

        Assert.Equal((int)ExitCode.FindingsPresent, exit);
        AssertCulprit(report, "blocking-wait", "BlockingApp.Scenarios.SyncOverAsyncScenario.FetchReportBlocking");
        Assert.True(".Result" == Finding(report, "blocking-wait").GetProperty("callSites")[0].GetProperty("blockingApi").GetString(), Finding(report, "blocking-wait").ToString());
        Assert.Equal(JsonValueKind.Object, Finding(report, "thread-pool-starvation").ValueKind);
        Assert.True(report.GetProperty("threadPool").GetProperty("injections").GetProperty("cooperativeBlocking").GetInt32() > 0);
        Assert.Equal("embedded", report.GetProperty("agent").GetString());
    }

    [Fact]
    public async Task Lock_is_lock_contention_at_RecalculateTotalsUnderLock()
    {
        if (await DiagnoseAsync("lock", 30) is not var (_, report, _))
        {
            return;
        }

        AssertCulprit(report, "lock-contention", "BlockingApp.Scenarios.LockScenario.RecalculateTotalsUnderLock");
    }

    [Fact]
    public async Task Sleep_is_a_long_callback_blocked_at_ThrottleWithThreadSleep()
    {
        if (await DiagnoseAsync("sleep", 20) is not var (_, report, _))
        {
            return;
        }

        AssertCulprit(report, "long-callback", "BlockingApp.Scenarios.SleepScenario.ThrottleWithThreadSleep");
        Assert.True("blocked" == Finding(report, "long-callback").GetProperty("callSites")[0].GetProperty("activity").GetString(), Finding(report, "long-callback").ToString());
    }

    [Fact]
    public async Task Cpu_is_a_long_callback_computing_at_ComputeChecksumOnRequestThread()
    {
        if (await DiagnoseAsync("cpu", 4) is not var (_, report, _))
        {
            return;
        }

        AssertCulprit(report, "long-callback", "BlockingApp.Scenarios.CpuScenario.ComputeChecksumOnRequestThread");
        Assert.True("cpu" == Finding(report, "long-callback").GetProperty("callSites")[0].GetProperty("activity").GetString(), Finding(report, "long-callback").ToString());
    }

    [Theory]
    [InlineData("healthy", false, 50)]
    [InlineData("sync-over-async", true, 50)]
    [InlineData("wait", true, 50)]
    [InlineData("sleep", true, 20)]
    [InlineData("cpu", true, 4)]
    [InlineData("lock", true, 30)]
    [InlineData("sync-io", true, 30)]
    [InlineData("fire-and-forget", true, 50)]
    [InlineData("too-many-tasks", true, 10)]
    [InlineData("timeout", true, 30)]
    public async Task Healthy_and_fixed_twins_have_no_warning_or_critical_finding(string scenario, bool isFixed, int rps)
    {
        if (await DiagnoseAsync(scenario, rps, isFixed, duration: "3s") is not var (exit, report, error))
        {
            return;
        }

        var problems = report.GetProperty("findings").EnumerateArray().Where(f => f.GetProperty("severity").GetString() != "info").Select(f => f.GetProperty("title").GetString()).ToList();
        Assert.True(problems.Count == 0, string.Join("\n", problems) + "\n" + error);
        Assert.Equal(0, exit);
        Assert.Equal("healthy", report.GetProperty("verdict").GetString());
    }

    [Fact]
    public async Task Fire_and_forget_without_the_embedded_agent_is_found_through_injection()
    {
        Assert.NotNull(LoopDoctor.Cli.Targets.AgentDetection.FindStartupHook(out _));
        // A faulted task is reported when the GC finalizes it: at 50 rps BlockingApp may not collect within 6 s (on
        // 2026-12-08 it did not, three runs in three), so the session induces one, as docs/cli.md tells users to.
        if (await DiagnoseAsync("fire-and-forget", 50, duration: "6s", agent: false, inject: true, collectGarbage: true) is not var (_, report, error))
        {
            return;
        }

        Assert.Equal("injected", report.GetProperty("agent").GetString());
        var finding = Finding(report, "unobserved-task-exception");
        Assert.True(finding.ValueKind == JsonValueKind.Object, error + report);
        Assert.Equal("BlockingApp.Scenarios.AuditSinkUnavailableException", finding.GetProperty("exceptionType").GetString());
    }
}
