// Whole-process CPU cost of RuntimeEventListener per blocking wait: the runtime writing WaitHandle events into
// EventPipe on the waiting thread, decoding them on its dispatch thread, and our handler.
// Each run does N Monitor.Wait/Pulse round trips between two dedicated threads, once without and once with the
// listener (default options), in separate child processes so neither run inherits the other's EventPipe session.
//   dotnet run -c Release --project bench/LoopDoctor.ListenerCost [-- runs]
// Exit code 0; a child that fails exits 1.
using System.Diagnostics;
using LoopDoctor.Agent;
using LoopDoctor.Agent.Metrics;
using LoopDoctor.Agent.RuntimeSignals;

const int RoundTrips = 50_000;

if (args is ["--child", var childMode])
{
    return RunChild(childMode == "on");
}

var runs = args.Length > 0 && int.TryParse(args[0], out var n) && n > 0 ? n : 3;
Console.WriteLine($"{RoundTrips} Monitor round trips per run (2 blocking waits + 2 contended re-acquires = 8 WaitHandle events each)");
for (var run = 1; run <= runs; run++)
{
    foreach (var mode in new[] { "off", "on" })
    {
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        using var child = Process.Start(new ProcessStartInfo(host)
        {
            ArgumentList = { typeof(Program).Assembly.Location, "--child", mode },
            RedirectStandardOutput = true,
        })!;
        Console.WriteLine($"run {run}: {child.StandardOutput.ReadToEnd().Trim()}");
        child.WaitForExit();
        if (child.ExitCode != 0)
        {
            return 1;
        }
    }
}

return 0;

static int RunChild(bool withListener)
{
    using var instruments = new LoopDoctorInstruments();
    using var listener = withListener ? new RuntimeEventListener(new LoopDoctorOptions(), instruments) : null;

    var gate = new object();
    var partnersTurn = false;
    var stop = false;
    var partner = new Thread(() =>
    {
        lock (gate)
        {
            while (!stop)
            {
                while (!partnersTurn && !stop)
                {
                    Monitor.Wait(gate);
                }

                partnersTurn = false;
                Monitor.Pulse(gate);
            }
        }
    }) { IsBackground = true };
    partner.Start();

    void RoundTrip()
    {
        lock (gate)
        {
            partnersTurn = true;
            Monitor.Pulse(gate);
            while (partnersTurn)
            {
                Monitor.Wait(gate);
            }
        }
    }

    for (var i = 0; i < 5_000; i++)
    {
        RoundTrip(); // warm up (and let the listener's session start)
    }

    var process = Process.GetCurrentProcess();
    var cpuBefore = process.TotalProcessorTime;
    var events = listener?.EventsReceived ?? 0;
    var wall = Stopwatch.StartNew();
    for (var i = 0; i < RoundTrips; i++)
    {
        RoundTrip();
    }

    wall.Stop();
    // Let the dispatch thread drain what was written: stop once no new event arrived for 200 ms.
    while (listener is not null)
    {
        var seen = listener.EventsReceived;
        Thread.Sleep(200);
        if (listener.EventsReceived == seen)
        {
            break;
        }
    }

    process.Refresh();
    var cpu = process.TotalProcessorTime - cpuBefore;
    var delivered = (listener?.EventsReceived ?? 0) - events;
    Console.WriteLine($"listener={(withListener ? "on " : "off")} cpu/round trip={cpu.TotalMicroseconds / RoundTrips,6:F2} µs  wall/round trip={wall.Elapsed.TotalMicroseconds / RoundTrips,6:F2} µs  events delivered={delivered}");

    lock (gate)
    {
        stop = true;
        Monitor.PulseAll(gate);
    }

    return 0;
}
