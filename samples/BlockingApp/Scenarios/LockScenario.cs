using System.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace BlockingApp.Scenarios;

/// <summary>
/// <c>/lock</c>: shared mutable state guarded by a lock that is held across slow work. Every request serialises on
/// the lock for 25 ms of synchronous work, so beyond ~40 rps the waiters pile up, each holding a pool thread in
/// <c>Monitor.Enter</c>. The twin does the slow work outside and only updates the shared total inside a
/// <see cref="SemaphoreSlim"/> taken with <c>WaitAsync</c> (the .NET <c>asyncio.Lock</c>), so a waiter holds no thread.
/// </summary>
public static class LockScenario
{
    // Two ledgers per request, each holding the lock this long: ~24 ms of lock time per request (saturates near 40 rps).
    internal static readonly TimeSpan SlowWork = TimeSpan.FromMilliseconds(12);

    // A plain object and the C# lock statement: Monitor, whose contention the runtime reports (ContentionStart/Stop).
    private static readonly object TotalsGate = new();
    private static readonly SemaphoreSlim TotalsSemaphore = new(1, 1);
    private static long _total;

    public static async Task<IResult> HandleAsync(CancellationToken requestAborted, [FromQuery(Name = "fixed")] bool isFixed = false)
    {
        var started = Stopwatch.GetTimestamp();
        var total = isFixed ? await RecalculateLedgersAsync(requestAborted) : await RecalculateLedgersInParallel();
        return ScenarioResponse.Ok("lock", isFixed, started, $"total={total}");
    }

    /// <summary>The culprit: holds a contended lock across 25 ms of blocking work.</summary>
    /// <summary>
    /// Recalculates two ledgers at once, both under the same lock: every request contends with itself, whatever the
    /// arrival pattern (a fixed-rate client alone would rarely make 25 ms sections overlap).
    /// </summary>
    public static async Task<long> RecalculateLedgersInParallel()
    {
        var ledgers = await Task.WhenAll(Task.Run(RecalculateTotalsUnderLock), Task.Run(RecalculateTotalsUnderLock));
        return Math.Max(ledgers[0], ledgers[1]);
    }

    public static async Task<long> RecalculateLedgersAsync(CancellationToken cancellationToken)
    {
        var ledgers = await Task.WhenAll(RecalculateTotalsAsync(cancellationToken), RecalculateTotalsAsync(cancellationToken));
        return Math.Max(ledgers[0], ledgers[1]);
    }

    public static long RecalculateTotalsUnderLock()
    {
        lock (TotalsGate)
        {
            // Stands for a synchronous call (pricing service, disk) made while holding the lock.
            Thread.Sleep(SlowWork);
            _total += 1;
            return _total;
        }
    }

    /// <summary>The fix: slow work awaited outside the critical section; the critical section is one update.</summary>
    public static async Task<long> RecalculateTotalsAsync(CancellationToken cancellationToken)
    {
        await Task.Delay(SlowWork, cancellationToken);
        await TotalsSemaphore.WaitAsync(cancellationToken);
        try
        {
            _total += 1;
            return _total;
        }
        finally
        {
            TotalsSemaphore.Release();
        }
    }
}
