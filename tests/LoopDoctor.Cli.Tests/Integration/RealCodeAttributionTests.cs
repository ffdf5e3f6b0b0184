using System.Text.Json;
using LoopDoctor.Cli.Tests.CommandLine;
using LoopDoctor.Testing;

namespace LoopDoctor.Cli.Tests.Integration;

/// <summary>
/// Issue 12's patient: BlockingApp's real-code endpoints (an MVC controller, a minimal API over a sync-over-async
/// wrapper), attached to after a warm-up, when the JIT has recompiled them at tier 1 and may have inlined the culprit
/// away. Each test asserts the finding kind and that the report names the culprit method or its endpoint.
/// The whole matrix (every scenario, at start and after warm-up, live, offline and --no-inject) is bench/accuracy.sh's.
/// </summary>
[Collection(RealProcessCollection.Name)]
public class RealCodeAttributionTests
{
    private static readonly TimeSpan Session = TimeSpan.FromSeconds(6);

    /// <param name="Awaits">For a wait on a task: the async method it blocks on, as the TPL's events name it.</param>
    private sealed record Expected(string Kind, string Culprit, string Endpoint, string? Awaits = null);

    private static readonly Expected TaskWait = new("blocking-wait", "BlockingApp.Customers.CustomersController.TaskWait", "api/customers/taskwait", Awaits: "FindByNameAsync");
    private const string FindByNameStateMachine = "BlockingApp.Customers.CustomerRepository+<FindByNameAsync>d__2.MoveNext";

    private static readonly Expected TaskSleepWait = new("long-callback", "BlockingApp.Customers.CustomersController.TaskSleepWait", "api/customers/tasksleepwait");
    private static readonly Expected SyncWrapper = new("blocking-wait", "BlockingApp.Stock.StockClient.GetStockLevel", "/api/stock/{sku}", Awaits: "GetStockLevelAsync");
    private static readonly Expected SyncOverAsync = new("blocking-wait", "BlockingApp.Scenarios.SyncOverAsyncScenario.FetchReportBlocking", "/sync-over-async");
    private static readonly Expected Sleep = new("long-callback", "BlockingApp.Scenarios.SleepScenario.ThrottleWithThreadSleep", "/sleep");

    [Fact]
    public async Task Warm_up_recompiles_the_culprits_at_tier_1()
    {
        await using var app = await PatientUnderLoad.StartAsync("taskwait", 40);
        var tiering = await app.WarmUpAsync();
        if (app.BuiltOptimized)
        {
            // MVC's invoker is a DynamicMethod, compiled optimized once at the first request, with TaskWait inlined into it:
            // when that request beat the watch, only the tiered code around it (the repository's state machine) shows the
            // warm-up. Either proves the culprit's code runs optimized.
            Assert.True(tiering.ReachedTier1(TaskWait.Culprit) || tiering.ReachedTier1(FindByNameStateMachine),
                $"{TaskWait.Culprit}: {tiering.Describe(TaskWait.Culprit)}; tier 1: {string.Join(", ", tiering.Tier1)}");
        }
        else
        {
            // A Debug build of BlockingApp is never optimized: the watch must see no tier-1 code and no inlining.
            Assert.True(tiering.Tier1.Count == 0 && tiering.Inlinings.Count == 0, $"tier 1: {string.Join(", ", tiering.Tier1)}; inlined: {string.Join(", ", tiering.Inlinings)}");
        }
    }

    [Fact]
    public async Task Taskwait_attached_at_start_is_a_blocking_wait_in_TaskWait()
    {
        await using var app = await PatientUnderLoad.StartAsync("taskwait", 40);
        AssertNamed(await DiagnoseAsync(app.Pid, inject: true), TaskWait);
    }

    [Fact]
    public async Task Taskwait_after_warm_up_is_a_blocking_wait_in_TaskWait()
    {
        await using var app = await PatientUnderLoad.StartAsync("taskwait", 40);
        await app.WarmUpAsync();
        AssertNamed(await DiagnoseAsync(app.Pid, inject: true), TaskWait);
    }

    [Fact]
    public async Task Tasksleepwait_after_warm_up_is_a_long_callback_in_TaskSleepWait()
    {
        await using var app = await PatientUnderLoad.StartAsync("tasksleepwait", 20);
        await app.WarmUpAsync();
        AssertNamed(await DiagnoseAsync(app.Pid, inject: true), TaskSleepWait);
    }

    [Fact]
    public async Task Sync_wrapper_after_warm_up_is_a_blocking_wait_in_GetStockLevel()
    {
        await using var app = await PatientUnderLoad.StartAsync("sync-wrapper", 50);
        await app.WarmUpAsync();
        AssertNamed(await DiagnoseAsync(app.Pid, inject: true), SyncWrapper);
    }

    [Fact]
    public async Task Sync_wrapper_attached_at_start_is_a_blocking_wait_in_GetStockLevel()
    {
        await using var app = await PatientUnderLoad.StartAsync("sync-wrapper", 50);
        AssertNamed(await DiagnoseAsync(app.Pid, inject: true), SyncWrapper);
    }

    [Fact]
    public async Task Sync_over_async_after_warm_up_recorded_and_analyzed_offline_names_FetchReportBlocking()
    {
        await using var app = await PatientUnderLoad.StartAsync("sync-over-async", 50);
        await app.WarmUpAsync();
        var trace = Path.Combine(Path.GetTempPath(), $"loopdoctor-realcode-{Guid.NewGuid():N}.nettrace");
        try
        {
            await TraceRecorder.RecordAsync(app.Pid, trace, Session);
            var result = await CliRunner.RunAsync("analyze", trace, "--format", "json");
            AssertNamed(Parse(result), SyncOverAsync);
        }
        finally
        {
            File.Delete(trace);
        }
    }

    [Fact]
    public async Task Sleep_after_warm_up_without_injection_names_ThrottleWithThreadSleep()
    {
        await using var app = await PatientUnderLoad.StartAsync("sleep", 20);
        await app.WarmUpAsync();
        AssertNamed(await DiagnoseAsync(app.Pid, inject: false), Sleep);
    }

    private static async Task<JsonElement> DiagnoseAsync(int pid, bool inject)
    {
        string[] args = ["diagnose", "-p", pid.ToString(), "--duration", $"{Session.TotalSeconds:0}s", "--format", "json", .. inject ? [] : new[] { "--no-inject" }];
        return Parse(await CliRunner.RunAsync(args));
    }

    private static JsonElement Parse(CliRunner.Result result)
    {
        Assert.True(result.Out.Length > 0, result.Error);
        using var document = JsonDocument.Parse(result.Out);
        return document.RootElement.Clone();
    }

    /// <summary>The right kind, not info, and its first call site names the culprit as its top frame or names the endpoint.</summary>
    private static void AssertNamed(JsonElement report, Expected expected)
    {
        var finding = report.GetProperty("findings").EnumerateArray().FirstOrDefault(f => f.GetProperty("kind").GetString() == expected.Kind);
        Assert.True(finding.ValueKind == JsonValueKind.Object, $"no {expected.Kind} finding in {report}");
        Assert.NotEqual("info", finding.GetProperty("severity").GetString());
        var site = finding.GetProperty("callSites")[0];
        var top = site.GetProperty("frames").EnumerateArray().Select(f => f.GetString()).FirstOrDefault();
        var endpoint = site.TryGetProperty("endpoint", out var e) ? e.ToString() : "";
        var action = string.Join('.', expected.Culprit.Split('.').TakeLast(2));
        Assert.True(top == expected.Culprit || endpoint.Contains(expected.Endpoint.TrimStart('/'), StringComparison.Ordinal) || endpoint.Contains(action, StringComparison.Ordinal),
            $"expected {expected.Culprit} or endpoint {expected.Endpoint}; the call site was {site}");
        if (expected.Awaits is { } awaited)
        {
            // The waits that began during the session were seen beginning, with the task they block on.
            var awaits = finding.GetProperty("callSites").EnumerateArray()
                .Select(c => c.TryGetProperty("awaits", out var a) ? a[0].GetString() : null).ToList();
            Assert.True(awaits.Contains(awaited), $"expected a call site waiting for {awaited}; the finding was {finding}");
        }
    }
}
