// A tiny target for the CLI's tests: runs one async anti-pattern under its own load on the thread pool
// and prints "ready pid=N" once running.
// Usage: LoopDoctor.TestTarget <scenario> [--agent]  (healthy|sync-over-async|lock|sleep|cpu|fire-and-forget|flood-waits)
// flood-waits: a few pool work items in tight Monitor.Wait/Pulse ping-pong (real blocking waits, each a
// WaitHandleWaitStart/Stop pair on a pool thread); prints "waits/s=N" once a second.

namespace LoopDoctor.TestTarget;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var scenario = args.Length > 0 ? args[0] : "healthy";
        Func<Task> work = scenario switch
        {
            "healthy" => Scenarios.HealthyAsync,
            "parked" => Scenarios.HealthyAsync, // healthy work, and two pool threads parked since startup (below)
            "sync-over-async" => Scenarios.SyncOverAsync,
            "lock" => Scenarios.LockContention,
            "sleep" => Scenarios.SleepInCallback,
            "cpu" => Scenarios.CpuInCallback,
            "fire-and-forget" => Scenarios.FireAndForget,
            "flood-waits" => () => Task.CompletedTask,
            _ => throw new ArgumentException($"unknown scenario {scenario}"),
        };
        using var agent = args.Contains("--agent") ? StartAgent() : null;
        if (scenario == "parked")
        {
            Scenarios.StartLicenceChecks();
        }

        Console.WriteLine($"ready pid={Environment.ProcessId} scenario={scenario}");
        using var stop = new CancellationTokenSource();
        if (scenario == "flood-waits")
        {
            await WaitFlood.RunAsync(pairs: 2);
            return 0;
        }

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

    // Through reflection so LoopDoctor.Agent.dll loads only with --agent (the CLI tells "embedded" from the loaded
    // assembly): a direct call compiled, or inlined, into Main's state machine would load it at every run.
    private static IDisposable StartAgent() =>
        (IDisposable)Type.GetType("LoopDoctor.Agent.LoopDoctorAgent, LoopDoctor.Agent", throwOnError: true)!
            .GetMethod("Start")!.Invoke(null, [null])!;
}

public static class Scenarios
{
    private static readonly object Gate = new();

    public static async Task HealthyAsync() => await Task.Delay(5);

    // A licence server that never answers: two checks started at startup block their pool threads for good.
    private static readonly TaskCompletionSource<bool> LicenceReply = new();

    public static void StartLicenceChecks()
    {
        for (var i = 0; i < 2; i++)
        {
            _ = Task.Run(() => CheckLicence());
        }
    }

    private static bool CheckLicence() => LicenceReply.Task.Result;

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

    public static Task LockContention()
    {
        lock (Gate)
        {
            Thread.Sleep(30);
        }
        return Task.CompletedTask;
    }

    public static Task SleepInCallback()
    {
        Thread.Sleep(300);
        return Task.CompletedTask;
    }

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

/// <summary>
/// Event flood for the CLI's hardening tests: pairs of pool work items hand a token back and forth with
/// Monitor.Wait/Pulse, so every hand-off is a real blocking wait on a pool thread (WaitHandleWaitStart/Stop).
/// Two pairs keep the two cores busy without starving the pool.
/// </summary>
public static class WaitFlood
{
    private static long _waits;

    public static async Task RunAsync(int pairs)
    {
        for (var i = 0; i < pairs; i++)
        {
            var gate = new object();
            var turn = new int[1];
            _ = Task.Run(() => PingPong(gate, turn, 0));
            _ = Task.Run(() => PingPong(gate, turn, 1));
        }

        var last = 0L;
        while (true)
        {
            await Task.Delay(1000);
            var now = Interlocked.Read(ref _waits);
            Console.WriteLine($"waits/s={now - last}");
            last = now;
        }
    }

    private static void PingPong(object gate, int[] turn, int me)
    {
        lock (gate)
        {
            while (true)
            {
                while (turn[0] != me)
                {
                    // The timeout keeps a lost pulse from parking the pair forever.
                    Monitor.Wait(gate, 10);
                    Interlocked.Increment(ref _waits);
                }

                turn[0] = 1 - me;
                Monitor.Pulse(gate);
            }
        }
    }
}
