using BlockingApp.Customers;
using BlockingApp.Stock;

namespace BlockingApp.Scenarios;

/// <summary>One endpoint of the sample: the seed anti-pattern it reproduces and where LoopDoctor should point.</summary>
/// <param name="Name">The <c>--scenario</c> name, also the endpoint path without the slash unless <see cref="Path"/> says otherwise.</param>
/// <param name="Culprit">Fully qualified method that does the wrong thing (<c>Namespace.Type.Method</c>); null for <c>healthy</c>.</param>
/// <param name="FixedMethod">Fully qualified method the <c>?fixed=true</c> twin runs instead.</param>
/// <param name="ExpectedFindings">LoopDoctor finding kinds the broken endpoint produces under load.</param>
public sealed record ScenarioInfo(
    string Name,
    string SeedAntiPattern,
    string? Culprit,
    string FixedMethod,
    IReadOnlyList<string> ExpectedFindings)
{
    /// <summary>The request path the load driver sends, e.g. <c>/sleep</c> or <c>/api/customers/taskwait</c>.</summary>
    public string Path { get; init; } = "/" + Name;

    /// <summary>The request path of the fixed twin: the same path with <c>?fixed=true</c>, or the fixed action's own route.</summary>
    public string FixedPath { get; init; } = "/" + Name + "?fixed=true";

    /// <summary>The route pattern of the broken endpoint as the app declares it (what a report may name instead of a frame).</summary>
    public string Endpoint { get; init; } = "/" + Name;
}

/// <summary>Every scenario, in README order. Names are built with <c>nameof</c> so a rename cannot silently break the CLI's checks.</summary>
public static class ScenarioCatalog
{
    public static IReadOnlyList<ScenarioInfo> All { get; } =
    [
        new("healthy", "— (the control: async all the way)", null,
            Method(typeof(HealthyScenario), nameof(HealthyScenario.LoadDashboardAsync)), []),
        new("sync-over-async", "blocking the event loop; mixing sync and async",
            Method(typeof(SyncOverAsyncScenario), nameof(SyncOverAsyncScenario.FetchReportBlocking)),
            Method(typeof(SyncOverAsyncScenario), nameof(SyncOverAsyncScenario.FetchReportAsync)),
            ["thread-pool-starvation", "blocking-wait", "high-lag"]),
        new("wait", "blocking the event loop; mixing sync and async",
            Method(typeof(WaitScenario), nameof(WaitScenario.WarmCachesBlocking)),
            Method(typeof(WaitScenario), nameof(WaitScenario.WarmCachesAsync)),
            ["thread-pool-starvation", "blocking-wait", "high-lag"]),
        new("sleep", "time.sleep() inside async def",
            Method(typeof(SleepScenario), nameof(SleepScenario.ThrottleWithThreadSleep)),
            Method(typeof(SleepScenario), nameof(SleepScenario.ThrottleWithTaskDelayAsync)),
            ["thread-pool-starvation", "high-lag"]),
        new("cpu", "async def for CPU-bound work",
            Method(typeof(CpuScenario), nameof(CpuScenario.ComputeChecksumOnRequestThread)),
            Method(typeof(CpuScenario), nameof(CpuScenario.ComputeChecksumOffloadedAsync)),
            ["long-callback", "high-lag"]),
        new("lock", "shared mutable state guarded by a lock",
            Method(typeof(LockScenario), nameof(LockScenario.RecalculateTotalsUnderLock)),
            Method(typeof(LockScenario), nameof(LockScenario.RecalculateTotalsAsync)),
            ["lock-contention", "thread-pool-starvation"]),
        new("sync-io", "blocking I/O without an async library (requests in async code)",
            Method(typeof(SyncIoScenario), nameof(SyncIoScenario.ReadInventoryBlocking)),
            Method(typeof(SyncIoScenario), nameof(SyncIoScenario.ReadInventoryAsync)),
            ["thread-pool-starvation", "high-lag"]),
        new("fire-and-forget", "coroutine never awaited; fire and forget",
            Method(typeof(FireAndForgetScenario), nameof(FireAndForgetScenario.SendAuditEventAsync)),
            Method(typeof(FireAndForgetScenario), nameof(FireAndForgetScenario.CompleteOrderTracked)),
            ["unobserved-task-exception"]),
        new("too-many-tasks", "creating too many tasks (no concurrency limit)",
            Method(typeof(TooManyTasksScenario), nameof(TooManyTasksScenario.PriceAllLinesUnbounded)),
            Method(typeof(TooManyTasksScenario), nameof(TooManyTasksScenario.PriceAllLinesBoundedAsync)),
            ["high-lag"]),
        new("timeout", "no timeout on I/O",
            Method(typeof(TimeoutScenario), nameof(TimeoutScenario.GetQuoteWithoutTimeoutAsync)),
            Method(typeof(TimeoutScenario), nameof(TimeoutScenario.GetQuoteWithTimeoutAsync)),
            []),
        new("taskwait", "blocking the event loop, in an MVC action (the tutorial's taskwait)",
            Method(typeof(CustomersController), nameof(CustomersController.TaskWait)),
            Method(typeof(CustomersController), nameof(CustomersController.TaskAsyncWait)),
            ["thread-pool-starvation", "blocking-wait", "high-lag"])
        {
            Path = "/api/customers/taskwait", FixedPath = "/api/customers/taskasyncwait", Endpoint = "api/customers/taskwait",
        },
        new("tasksleepwait", "time.sleep() polling a task, in an MVC action (the tutorial's tasksleepwait)",
            Method(typeof(CustomersController), nameof(CustomersController.TaskSleepWait)),
            Method(typeof(CustomersController), nameof(CustomersController.TaskAsyncWait)),
            ["thread-pool-starvation", "long-callback", "high-lag"])
        {
            Path = "/api/customers/tasksleepwait", FixedPath = "/api/customers/taskasyncwait", Endpoint = "api/customers/tasksleepwait",
        },
        new("sync-wrapper", "mixing sync and async: a synchronous wrapper over an async client, from a minimal API",
            Method(typeof(StockClient), nameof(StockClient.GetStockLevel)),
            Method(typeof(StockClient), nameof(StockClient.GetStockLevelAsync)),
            ["thread-pool-starvation", "blocking-wait", "high-lag"])
        {
            Path = "/api/stock/sku-1001", FixedPath = "/api/v2/stock/sku-1001", Endpoint = "/api/stock/{sku}",
        },
        new("deadlock", "two locks taken in opposite orders (two tasks each awaiting the other)",
            Method(typeof(DeadlockScenario), nameof(DeadlockScenario.Transfer)),
            Method(typeof(DeadlockScenario), nameof(DeadlockScenario.TransferInAccountOrder)),
            ["deadlock", "thread-pool-starvation"]),
        new("gc-pressure", "gc.collect() in a request path (stop-the-world pauses)",
            Method(typeof(ReportCache), nameof(ReportCache.RefreshAndCollect)),
            Method(typeof(ReportCache), nameof(ReportCache.Refresh)),
            ["gc-pause", "high-lag"]),
    ];

    public static IEnumerable<string> Names => All.Select(s => s.Name);

    public static ScenarioInfo? Find(string name) =>
        All.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));

    private static string Method(Type type, string name) => $"{type.FullName}.{name}";
}
