// What the service does on the thread pool besides serving (--workload NAME), written the way application code is
// written: each one is a classic way to hurt the pool, for "what does LoopDoctor see on .NET 8, 9 and 10" tests.
internal static class Workloads
{
    public static Func<CancellationToken, Task>? For(string? name) => name switch
    {
        null => null,
        "sync-over-async" => stopping => Repeat(stopping, 4, () => CustomerExport.ExportAll(stopping)),
        "cpu" => stopping => Repeat(stopping, 1, () => MonthlyReport.Build()),
        "lock" => stopping => Repeat(stopping, 6, () => InventoryCache.Refresh()),
        "unobserved" => stopping => Repeat(stopping, 1, OrderShipping.ShipBatchAsync),
        _ => throw new ArgumentException($"unknown workload '{name}' (sync-over-async, cpu, lock, unobserved)"),
    };

    /// <summary>How long the workload runs before the program says so ("workload warm"): its code has been called often by then.</summary>
    public static readonly TimeSpan WarmAfter = TimeSpan.FromSeconds(3);

    // Runs the job over and over from the pool, on this many concurrent loops, until stopped; prints "workload warm" once
    // it has run for WarmAfter, so a test attaches to code that has been running (tiered up), as a user does.
    private static Task Repeat(CancellationToken stopping, int loops, Action job) =>
        Repeat(stopping, loops, async () =>
        {
            job();
            await Task.Yield();
        });

    private static Task Repeat(CancellationToken stopping, int loops, Func<Task> job)
    {
        var started = Environment.TickCount64;
        var warm = 0;
        return Task.WhenAll(Enumerable.Range(0, loops).Select(_ => Task.Run(async () =>
        {
            while (!stopping.IsCancellationRequested)
            {
                await job();
                if (Environment.TickCount64 - started >= WarmAfter.TotalMilliseconds && Interlocked.Exchange(ref warm, 1) == 0)
                {
                    Console.WriteLine("workload warm");
                }
            }
        }, CancellationToken.None)));
    }
}

// Sync-over-async: a synchronous wrapper over an async lookup, called from Parallel.For.
internal static class CustomerExport
{
    public static void ExportAll(CancellationToken stopping)
    {
        try
        {
            Parallel.For(0, 32, new ParallelOptions { CancellationToken = stopping }, id => _ = LoadCustomer(id));
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static string LoadCustomer(int id) => LoadCustomerAsync(id).GetAwaiter().GetResult();

    private static async Task<string> LoadCustomerAsync(int id)
    {
        await Task.Delay(100);
        return $"customer {id}";
    }
}

// A long CPU-bound work item: a report computed on a pool thread.
internal static class MonthlyReport
{
    public static long Build()
    {
        long total = 0;
        var until = Environment.TickCount64 + 300;
        while (Environment.TickCount64 < until)
        {
            for (var i = 0; i < 10_000; i++)
            {
                total = unchecked((total * 31) + i);
            }
        }

        return total;
    }
}

// A lock held across slow work: every refresh queues behind the one in progress.
internal static class InventoryCache
{
    private static readonly object Sync = new();
    private static int _version;

    public static void Refresh()
    {
        lock (Sync)
        {
            Thread.Sleep(50); // the "database" read done under the lock
            _version++;
        }
    }
}

// Fire-and-forget: each shipped order starts an audit write nobody awaits, and the audit store is down, so every write's
// exception goes unobserved. Orders are built in memory, so the GC runs (and finalizes the dropped tasks) as in a real service.
internal static class OrderShipping
{
    private static long _orders;

    public static async Task ShipBatchAsync()
    {
        for (var i = 0; i < 20; i++)
        {
            var order = BuildOrder(Interlocked.Increment(ref _orders));
            _ = WriteAuditAsync(order);
        }

        await Task.Delay(20);
    }

    private static string BuildOrder(long id) =>
        $"order {id}: " + string.Join(',', Enumerable.Range(0, 2000).Select(line => $"line {line} of order {id}"));

    private static async Task WriteAuditAsync(string order)
    {
        await Task.Yield();
        throw new InvalidOperationException($"audit store unavailable: {order.Length} bytes not written");
    }
}
