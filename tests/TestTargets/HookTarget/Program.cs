// Prints "ready pid=N", then answers lines on stdin until "exit", stdin closes or 60 s pass (exit code 0):
//   status → "status assemblies=<loaded LoopDoctor.Agent assemblies> agent=<mode of LoopDoctorAgent.Current|none>"
// It reads the agent by reflection because it does not reference it: the agent only ever arrives by startup hook.
using System.Reflection;

var deadline = Task.Delay(TimeSpan.FromSeconds(60));
Console.WriteLine($"ready pid={Environment.ProcessId}");
Console.Out.Flush();

while (true)
{
    var read = Task.Run(() => Console.In.ReadLineAsync());
    if (await Task.WhenAny(read, deadline) == deadline)
    {
        return 0;
    }

    var line = await read;
    if (line is null || line.Trim() == "exit")
    {
        return 0;
    }

    if (line.Trim() == "status")
    {
        Console.WriteLine(Status());
        Console.Out.Flush();
    }
}

static string Status()
{
    var agents = AppDomain.CurrentDomain.GetAssemblies().Where(a => a.GetName().Name == "LoopDoctor.Agent").ToArray();
    var mode = "none";
    foreach (var assembly in agents)
    {
        var current = assembly.GetType("LoopDoctor.Agent.LoopDoctorAgent")
            ?.GetProperty("Current", BindingFlags.Public | BindingFlags.Static)?.GetValue(null);
        if (current?.GetType().GetProperty("Options")?.GetValue(current) is { } options)
        {
            mode = options.GetType().GetProperty("Mode")?.GetValue(options)?.ToString() ?? "unknown";
        }
    }

    return $"status assemblies={agents.Length} agent={mode}";
}
