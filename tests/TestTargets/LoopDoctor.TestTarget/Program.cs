// A tiny target for the CLI's tests: runs one async anti-pattern under its own load on the thread pool
// and prints "ready pid=N" once running.
// Usage: LoopDoctor.TestTarget <scenario> [--agent]  (healthy|sync-over-async|lock|sleep|cpu|fire-and-forget)
using System.Runtime.CompilerServices;
using LoopDoctor.Agent;

namespace LoopDoctor.TestTarget;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var scenario = args.Length > 0 ? args[0] : "healthy";
        Func<Task> work = scenario switch
        {
            "healthy" => Scenarios.HealthyAsync,
            "sync-over-async" => Scenarios.SyncOverAsync,
            "lock" => Scenarios.LockContention,
            "sleep" => Scenarios.SleepInCallback,
            "cpu" => Scenarios.CpuInCallback,
            "fire-and-forget" => Scenarios.FireAndForget,
            _ => throw new ArgumentException($"unknown scenario {scenario}"),
        };
        using var agent = args.Contains("--agent") ? StartAgent() : null;
        Console.WriteLine($"ready pid={Environment.ProcessId} scenario={scenario}");
        using var stop = new CancellationTokenSource();
        var inFlight = new List<Task>();
        while (!stop.IsCancellationRequested)
        {
            // ~50 work items per second, each started on the pool like a request.
            inFlight.RemoveAll(t => t.IsCompleted);
            if (inFlight.Count < (scenario == "cpu" ? 2 : 64))
            {
                inFlight.Add(Task.Run(work));
            }
            await Task.Delay(20);
            if (scenario == "fire-and-forget")
            {
                GC.Collect(); // the finalizer raises UnobservedTaskException for the dropped faulted tasks
            }
        }
        return 0;
    }

    // In its own method so LoopDoctor.Agent.dll loads only with --agent (the CLI tells "embedded" from the loaded assembly).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static IDisposable StartAgent() => LoopDoctorAgent.Start();
}

public static class Scenarios
{
    private static readonly object Gate = new();

    public static async Task HealthyAsync() => await Task.Delay(5);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static Task SyncOverAsync()
    {
        var value = FetchAsync().Result;
        GC.KeepAlive(value);
        return Task.CompletedTask;
    }

    private static async Task<int> FetchAsync()
    {
        await Task.Delay(50);
        return 42;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static Task LockContention()
    {
        lock (Gate)
        {
            Thread.Sleep(30);
        }
        return Task.CompletedTask;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static Task SleepInCallback()
    {
        Thread.Sleep(300);
        return Task.CompletedTask;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static Task CpuInCallback()
    {
        var end = Environment.TickCount64 + 300;
        double x = 0;
        while (Environment.TickCount64 < end)
        {
            x += Math.Sqrt(x + 1);
        }
        GC.KeepAlive(x);
        return Task.CompletedTask;
    }

    public static Task FireAndForget()
    {
        _ = FailLaterAsync();
        return Task.CompletedTask;
    }

    private static async Task FailLaterAsync()
    {
        await Task.Yield();
        throw new InvalidOperationException("fire-and-forget failed");
    }
}
