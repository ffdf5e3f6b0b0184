using System.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace BlockingApp.Scenarios;

/// <summary>
/// <c>/fire-and-forget</c>: "coroutine never awaited". The order endpoint starts the audit call and drops the task;
/// 5 ms later the task faults and nobody ever looks at it. When the GC collects the faulted task its finalizer raises
/// <see cref="TaskScheduler.UnobservedTaskException"/>, the .NET "Task exception was never retrieved".
/// The twin hands the task to <see cref="BackgroundTaskTracker"/>, which observes and counts the failure and lets
/// shutdown wait for it.
/// </summary>
public static class FireAndForgetScenario
{
    internal static readonly TimeSpan AuditLatency = TimeSpan.FromMilliseconds(5);
    private static long _nextOrderId;

    public static IResult Handle(BackgroundTaskTracker tracker, [FromQuery(Name = "fixed")] bool isFixed = false)
    {
        var started = Stopwatch.GetTimestamp();
        var orderId = Interlocked.Increment(ref _nextOrderId);
        if (isFixed)
        {
            CompleteOrderTracked(orderId, tracker);
        }
        else
        {
            CompleteOrderFireAndForget(orderId);
        }

        return ScenarioResponse.Ok("fire-and-forget", isFixed, started, $"order={orderId}");
    }

    /// <summary>The bug: starts <see cref="SendAuditEventAsync"/> and drops the task.</summary>
    public static void CompleteOrderFireAndForget(long orderId)
    {
        _ = SendAuditEventAsync(orderId);
    }

    /// <summary>The fix: the same call, tracked; its exception is observed (logged and counted), and shutdown waits for it.</summary>
    public static void CompleteOrderTracked(long orderId, BackgroundTaskTracker tracker)
    {
        tracker.Track(SendAuditEventAsync(orderId));
    }

    /// <summary>Throws <see cref="AuditSinkUnavailableException"/> after an await: the frame the unobserved exception's stack shows.</summary>
    public static async Task SendAuditEventAsync(long orderId)
    {
        await Task.Delay(AuditLatency);
        throw new AuditSinkUnavailableException(orderId);
    }
}

/// <summary>The distinctive exception type of <c>/fire-and-forget</c> (it appears as <c>error.type</c> in LoopDoctor's counter).</summary>
public sealed class AuditSinkUnavailableException(long orderId)
    : Exception($"Audit sink unavailable; the audit event of order {orderId} was lost.")
{
    public long OrderId { get; } = orderId;
}
