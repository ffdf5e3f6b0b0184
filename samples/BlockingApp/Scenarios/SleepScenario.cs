using System.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace BlockingApp.Scenarios;

/// <summary>
/// <c>/sleep</c>: <c>time.sleep()</c> inside <c>async def</c>, i.e. <c>Thread.Sleep</c> in an async handler.
/// The thread-pool thread is held for the whole sleep; the twin gives it back with <c>await Task.Delay</c>.
/// </summary>
public static class SleepScenario
{
    internal static readonly TimeSpan ThrottleDelay = TimeSpan.FromMilliseconds(200);

    public static async Task<IResult> HandleAsync(CancellationToken requestAborted, [FromQuery(Name = "fixed")] bool isFixed = false)
    {
        var started = Stopwatch.GetTimestamp();
        if (isFixed)
        {
            await ThrottleWithTaskDelayAsync(requestAborted);
        }
        else
        {
            ThrottleWithThreadSleep();
        }

        return ScenarioResponse.Ok("sleep", isFixed, started, $"throttled_ms={ThrottleDelay.TotalMilliseconds}");
    }

    /// <summary>The culprit: a blocking sleep on a pool thread.</summary>
    public static void ThrottleWithThreadSleep() => Thread.Sleep(ThrottleDelay);

    public static Task ThrottleWithTaskDelayAsync(CancellationToken cancellationToken) => Task.Delay(ThrottleDelay, cancellationToken);
}
