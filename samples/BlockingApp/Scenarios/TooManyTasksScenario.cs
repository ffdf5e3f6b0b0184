using System.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace BlockingApp.Scenarios;

/// <summary>
/// <c>/too-many-tasks</c>: "creating too many tasks" with no limit. Each request prices 500 order lines with one
/// <c>Task.Run</c> per line (≈50 µs of CPU each): 500 work items land in the pool's queues at once and every other
/// work item (requests, timers, LoopDoctor's probe) waits behind them. The twin uses <c>Parallel.ForEachAsync</c>
/// bounded to half the cores: the same work, never every core, so requests and timers still find a thread.
/// </summary>
public static class TooManyTasksScenario
{
    public const int LineCount = 500;
    /// <summary>Half the cores (at least one): a bound of every core still starves the work queued behind the fan-out on a small machine.</summary>
    public static int MaxDegreeOfParallelism { get; } = Math.Max(1, Environment.ProcessorCount / 2);
    internal static readonly TimeSpan WorkPerLine = TimeSpan.FromTicks(500); // 50 µs

    public static async Task<IResult> HandleAsync(CancellationToken requestAborted, [FromQuery(Name = "fixed")] bool isFixed = false)
    {
        var started = Stopwatch.GetTimestamp();
        var total = isFixed ? await PriceAllLinesBoundedAsync(requestAborted) : (await PriceAllLinesUnbounded()).Sum();
        return ScenarioResponse.Ok("too-many-tasks", isFixed, started, $"lines={LineCount} total={total}");
    }

    /// <summary>
    /// The culprit: an unbounded fan-out, one <c>Task.Run</c> per line. Deliberately not <c>async</c>, so stack samples
    /// show this method's own name rather than a compiler-generated state machine's <c>MoveNext</c>.
    /// </summary>
    public static Task<long[]> PriceAllLinesUnbounded()
    {
        var tasks = new Task<long>[LineCount];
        for (var line = 0; line < LineCount; line++)
        {
            var captured = line;
            tasks[line] = Task.Run(() => PriceLine(captured));
        }

        return Task.WhenAll(tasks);
    }

    /// <summary>The fix: the same lines with a concurrency limit.</summary>
    public static async Task<long> PriceAllLinesBoundedAsync(CancellationToken cancellationToken)
    {
        long total = 0;
        var options = new ParallelOptions { MaxDegreeOfParallelism = MaxDegreeOfParallelism, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Enumerable.Range(0, LineCount), options, (line, _) =>
        {
            Interlocked.Add(ref total, PriceLine(line));
            return ValueTask.CompletedTask;
        });
        return total;
    }

    /// <summary>One line's price: a fixed 50 µs of CPU.</summary>
    internal static long PriceLine(int line)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(WorkPerLine.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            Thread.SpinWait(1);
        }

        return (line % 97) + 1;
    }
}
