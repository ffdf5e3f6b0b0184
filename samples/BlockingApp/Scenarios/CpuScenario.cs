using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Mvc;

namespace BlockingApp.Scenarios;

/// <summary>
/// <c>/cpu</c>: "async for CPU-bound work". 300 ms of hashing runs on the request's thread-pool thread: one long
/// callback that no await interrupts. The twin hands the same work to <see cref="CpuWorkQueue"/>, a small set of
/// dedicated threads with a bounded queue, and awaits the result; when the queue is full it sheds (503) instead of
/// letting CPU work pile up on the pool.
/// </summary>
public static class CpuScenario
{
    internal static readonly TimeSpan WorkDuration = TimeSpan.FromMilliseconds(300);

    public static async Task<IResult> HandleAsync(CpuWorkQueue workers, CancellationToken requestAborted,
        [FromQuery(Name = "fixed")] bool isFixed = false)
    {
        var started = Stopwatch.GetTimestamp();
        if (!isFixed)
        {
            var rounds = ComputeChecksumOnRequestThread();
            return ScenarioResponse.Ok("cpu", false, started, $"rounds={rounds}");
        }

        var offloaded = await ComputeChecksumOffloadedAsync(workers, requestAborted);
        return offloaded is { } count
            ? ScenarioResponse.Ok("cpu", true, started, $"rounds={count}")
            : Results.Problem("CPU work queue is full; retry later.", statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    /// <summary>The culprit: a 300 ms CPU loop on a thread-pool thread (the loop is inline so this is the top user frame).</summary>
    public static long ComputeChecksumOnRequestThread()
    {
        Span<byte> block = stackalloc byte[32];
        var deadline = Stopwatch.GetTimestamp() + (long)(WorkDuration.TotalSeconds * Stopwatch.Frequency);
        long rounds = 0;
        while (Stopwatch.GetTimestamp() < deadline)
        {
            SHA256.HashData(block, block);
            rounds++;
        }

        return rounds;
    }

    /// <summary>The fix: bounded offload to dedicated threads; null when the queue is full.</summary>
    public static Task<long?> ComputeChecksumOffloadedAsync(CpuWorkQueue workers, CancellationToken cancellationToken) =>
        workers.TryRun(ComputeChecksumOnWorker, cancellationToken);

    /// <summary>The same work as the culprit, running on a <see cref="CpuWorkQueue"/> thread.</summary>
    internal static long ComputeChecksumOnWorker()
    {
        Span<byte> block = stackalloc byte[32];
        var deadline = Stopwatch.GetTimestamp() + (long)(WorkDuration.TotalSeconds * Stopwatch.Frequency);
        long rounds = 0;
        while (Stopwatch.GetTimestamp() < deadline)
        {
            SHA256.HashData(block, block);
            rounds++;
        }

        return rounds;
    }
}
