namespace LoopDoctor.Bench.Accuracy;

/// <summary>What a diagnosis of a BlockingApp scenario should name: the finding kind, the culprit method, the endpoint.</summary>
/// <param name="Scenario">BlockingApp's <c>--scenario</c> name.</param>
/// <param name="RequestsPerSecond">The load (enough to show the problem on 2 cores, as the CLI's integration tests use).</param>
/// <param name="Kind">The finding kind that explains the scenario.</param>
/// <param name="Culprit">The method with the mistake (<c>Namespace.Type.Method</c>).</param>
/// <param name="Endpoint">The route pattern the app declares; naming it (or the MVC action's display name) is an acceptable answer.</param>
internal sealed record RightAnswer(string Scenario, int RequestsPerSecond, string Kind, string Culprit, string Endpoint)
{
    /// <summary>Written down here, not read from BlockingApp's catalog, so the matrix checks LoopDoctor against an answer it did not produce.</summary>
    public static IReadOnlyList<RightAnswer> All { get; } =
    [
        new("sync-over-async", 50, "blocking-wait", "BlockingApp.Scenarios.SyncOverAsyncScenario.FetchReportBlocking", "/sync-over-async"),
        new("wait", 50, "blocking-wait", "BlockingApp.Scenarios.WaitScenario.WarmCachesBlocking", "/wait"),
        new("sleep", 20, "long-callback", "BlockingApp.Scenarios.SleepScenario.ThrottleWithThreadSleep", "/sleep"),
        new("cpu", 4, "long-callback", "BlockingApp.Scenarios.CpuScenario.ComputeChecksumOnRequestThread", "/cpu"),
        new("lock", 30, "lock-contention", "BlockingApp.Scenarios.LockScenario.RecalculateTotalsUnderLock", "/lock"),
        new("sync-io", 30, "long-callback", "BlockingApp.Scenarios.SyncIoScenario.ReadInventoryBlocking", "/sync-io"),
        new("taskwait", 40, "blocking-wait", "BlockingApp.Customers.CustomersController.TaskWait", "api/customers/taskwait"),
        new("tasksleepwait", 20, "long-callback", "BlockingApp.Customers.CustomersController.TaskSleepWait", "api/customers/tasksleepwait"),
        new("sync-wrapper", 50, "blocking-wait", "BlockingApp.Stock.StockClient.GetStockLevel", "/api/stock/{sku}"),
    ];

    /// <summary>The culprit without its namespace, e.g. <c>CustomersController.TaskWait</c> (how an MVC display name or a route handler name shows it).</summary>
    public string ShortCulprit => string.Join('.', Culprit.Split('.').TakeLast(2));
}
