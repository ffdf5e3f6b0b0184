using System.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace BlockingApp.Scenarios;

/// <summary>
/// <c>/wait</c>: the other two spellings of sync-over-async, <c>Task.Wait()</c> and <c>GetAwaiter().GetResult()</c>.
/// Same harm as <c>.Result</c>; <c>GetAwaiter().GetResult()</c> only changes how the exception is thrown.
/// </summary>
public static class WaitScenario
{
    internal static readonly TimeSpan CacheLatency = TimeSpan.FromMilliseconds(100);

    public static async Task<IResult> HandleAsync([FromQuery(Name = "fixed")] bool isFixed = false)
    {
        var started = Stopwatch.GetTimestamp();
        var entries = isFixed ? await WarmCachesAsync() : WarmCachesBlocking();
        return ScenarioResponse.Ok("wait", isFixed, started, $"entries={entries}");
    }

    /// <summary>The culprit: two blocking waits on a pool thread.</summary>
    public static int WarmCachesBlocking()
    {
        var prices = WarmPriceCacheAsync();
        prices.Wait();
        var stock = WarmStockCacheAsync().GetAwaiter().GetResult();
        return prices.Result + stock;
    }

    public static async Task<int> WarmCachesAsync()
    {
        var prices = await WarmPriceCacheAsync();
        var stock = await WarmStockCacheAsync();
        return prices + stock;
    }

    private static async Task<int> WarmPriceCacheAsync()
    {
        await Task.Delay(CacheLatency);
        return 100;
    }

    private static async Task<int> WarmStockCacheAsync()
    {
        await Task.Delay(CacheLatency);
        return 50;
    }
}
