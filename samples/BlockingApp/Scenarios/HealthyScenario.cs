using System.Diagnostics;

namespace BlockingApp.Scenarios;

/// <summary>
/// <c>/healthy</c>: the control. Async all the way: an awaited delay (a fast dependency) and an async file read.
/// Under any rate the thread pool stays free, so LoopDoctor should report nothing.
/// </summary>
public static class HealthyScenario
{
    internal static readonly TimeSpan DependencyLatency = TimeSpan.FromMilliseconds(20);

    public static async Task<IResult> HandleAsync(InventoryFile inventory, CancellationToken requestAborted)
    {
        var started = Stopwatch.GetTimestamp();
        var bytes = await LoadDashboardAsync(inventory, requestAborted);
        return ScenarioResponse.Ok("healthy", false, started, $"bytes={bytes}");
    }

    public static async Task<long> LoadDashboardAsync(InventoryFile inventory, CancellationToken cancellationToken)
    {
        await Task.Delay(DependencyLatency, cancellationToken);
        await using var file = inventory.OpenRead();
        var buffer = new byte[InventoryFile.ChunkSize];
        long total = 0;
        int read;
        while ((read = await file.ReadAsync(buffer, cancellationToken)) > 0)
        {
            total += read;
        }

        return total;
    }
}
