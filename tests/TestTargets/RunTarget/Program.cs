// A console child for `loopdoctor run` / `check` tests. Usage:
//   RunTarget exit N      prints "hello from RunTarget pid=P agent=True|False" and exits with N at once
//   RunTarget echo        reads one line from stdin, prints "echo: LINE", exits 0
//   RunTarget wait        prints "ready pid=P", waits (at most 60 s) for Ctrl+C/SIGTERM, prints "stopping on SIGNAL", exits 42
using System.Runtime.InteropServices;

var mode = args.Length > 0 ? args[0] : "exit";
switch (mode)
{
    case "exit":
        // agent=True when a startup hook loaded LoopDoctor.Agent before Main (loopdoctor run's DOTNET_STARTUP_HOOKS).
        var agent = AppDomain.CurrentDomain.GetAssemblies().Any(a => a.GetName().Name == "LoopDoctor.Agent");
        Console.WriteLine($"hello from RunTarget pid={Environment.ProcessId} agent={agent}");
        return args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 0;
    case "echo":
        Console.WriteLine($"echo: {Console.ReadLine()}");
        return 0;
    case "wait":
        var stopped = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using (PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stopped.TrySetResult("SIGINT"); }))
        using (PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stopped.TrySetResult("SIGTERM"); }))
        {
            Console.WriteLine($"ready pid={Environment.ProcessId}");
            var signal = await Task.WhenAny(stopped.Task, Task.Delay(TimeSpan.FromSeconds(60))) == stopped.Task ? stopped.Task.Result : "timeout";
            Console.WriteLine($"stopping on {signal}");
            return signal == "timeout" ? 1 : 42;
        }

    default:
        Console.Error.WriteLine($"RunTarget: unknown mode {mode}");
        return 2;
}
