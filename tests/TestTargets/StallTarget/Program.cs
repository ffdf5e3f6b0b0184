// A small service for the CLI's gc-pause, deadlock and hung-wait tests. It serves "requests" on the thread pool (a
// Task.Run that awaits a short delay, 50 per second) and runs one workload beside them; prints "ready pid=N" once running.
// Usage: StallTarget <workload>; a line "go" on standard input starts a workload that waits for it (the deadlocks formed
// during a session), and the target answers "started".
using StallTarget;

var workload = args.Length > 0 ? args[0] : "healthy";
Action? start = workload switch
{
    "healthy" => null,
    "gc-induced" => () => new ReportCache().StartRefreshing(),
    "gc-allocation" => () => new SessionStore().StartChurning(),
    "gc-healthy" => () => new RequestParser().StartParsing(),
    _ => Deadlocks.For(workload),
};
if (start is null && workload != "healthy")
{
    Console.Error.WriteLine($"unknown workload {workload}");
    return 2;
}

var waitsForGo = args.Contains("--on-go");
if (!waitsForGo)
{
    start?.Invoke();
}

Console.WriteLine($"ready pid={Environment.ProcessId} workload={workload}");
if (waitsForGo)
{
    _ = Task.Factory.StartNew(() =>
    {
        while (Console.ReadLine() is { } line)
        {
            if (line == "go")
            {
                start?.Invoke();
                Console.WriteLine("started");
            }
        }
    }, TaskCreationOptions.LongRunning);
}

var requests = new List<Task>();
var nextReport = Environment.TickCount64 + 1000;
while (true)
{
    requests.RemoveAll(t => t.IsCompleted);
    if (requests.Count < 64)
    {
        requests.Add(Task.Run(Requests.HandleAsync));
    }

    await Task.Delay(20);
    if (Environment.TickCount64 >= nextReport)
    {
        // What the GC did, as the process itself counts it: the healthy control proves it collected often.
        nextReport += 1000;
        Console.WriteLine($"collections gen0={GC.CollectionCount(0)} gen1={GC.CollectionCount(1)} gen2={GC.CollectionCount(2)}");
    }
}

namespace StallTarget
{
    internal static class Requests
    {
        public static async Task HandleAsync() => await Task.Delay(5);
    }
}
