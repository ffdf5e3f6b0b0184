namespace StallTarget;

/// <summary>
/// P8 (docs/benchmarks.md): the process a snapshot is measured on: a ~500 MB heap of small objects, a deadlock and ~200
/// threads queued behind it, and a ticker that prints how long the process stood still when it stalls (the dump's pause).
/// </summary>
internal static class SnapshotBench
{
    public static void Start()
    {
        _ = new ReportCacheForBench(5000);
        new TransferService().DeadlockWithQueue(statements: 196);
        new Thread(Tick) { IsBackground = true, Name = "stall-ticker" }.Start();
    }

    private static void Tick()
    {
        var last = Environment.TickCount64;
        while (true)
        {
            Thread.Sleep(10);
            var now = Environment.TickCount64;
            if (now - last > 200)
            {
                Console.WriteLine($"stalled {now - last} ms");
            }

            last = now;
        }
    }
}

/// <summary>Holds about 100 KB per report, alive for the process's life.</summary>
internal sealed class ReportCacheForBench
{
    private static readonly List<List<string>> Reports = [];

    public ReportCacheForBench(int reports)
    {
        for (var id = 0; id < reports; id++)
        {
            var lines = new List<string>(1000);
            for (var line = 0; line < 1000; line++)
            {
                lines.Add($"report {id} line {line}: {Guid.NewGuid()}");
            }

            Reports.Add(lines);
        }
    }
}
