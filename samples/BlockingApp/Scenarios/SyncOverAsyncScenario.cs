using System.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace BlockingApp.Scenarios;

/// <summary>
/// <c>/sync-over-async</c>: the seeds' "blocking the event loop" in its most common .NET form, <c>.Result</c> on an
/// async call. The request's thread-pool thread sleeps in a wait while the awaited delay needs <em>another</em> pool
/// thread to complete it, so under load the pool starves and every request (and timer) queues.
/// </summary>
public static class SyncOverAsyncScenario
{
    internal static readonly TimeSpan ReportLatency = TimeSpan.FromMilliseconds(200);

    public static async Task<IResult> HandleAsync([FromQuery(Name = "fixed")] bool isFixed = false)
    {
        var started = Stopwatch.GetTimestamp();
        var report = isFixed ? await FetchReportAsync() : FetchReportBlocking();
        return ScenarioResponse.Ok("sync-over-async", isFixed, started, report);
    }

    /// <summary>The culprit: blocks a pool thread on <c>.Result</c>.</summary>
    public static string FetchReportBlocking() => FetchReportAsync().Result;

    /// <summary>The fix is to await this all the way up (the twin does).</summary>
    public static async Task<string> FetchReportAsync()
    {
        await Task.Delay(ReportLatency);
        return "report=ready";
    }
}
