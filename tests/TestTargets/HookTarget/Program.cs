// Prints "ready pid=N", then answers lines on stdin until "exit", stdin closes or 60 s pass (exit code 0):
//   status → "status assemblies=<loaded LoopDoctor.Agent assemblies> agent=<mode of LoopDoctorAgent.Current|none> metrics=<url|none>"
//   load X → "loaded X from <dir>" or "load-failed X": can this app load an assembly it does not ship (the hook's deps)?
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
    else if (line.StartsWith("load ", StringComparison.Ordinal))
    {
        Console.WriteLine(Load(line[5..].Trim()));
        Console.Out.Flush();
    }
}

static string Load(string name)
{
    try
    {
        var assembly = Assembly.Load(new AssemblyName(name));
        return $"loaded {name} from {Path.GetDirectoryName(assembly.Location)}";
    }
    catch (Exception)
    {
        return $"load-failed {name}";
    }
}

static string Status()
{
    var agents = AppDomain.CurrentDomain.GetAssemblies().Where(a => a.GetName().Name == "LoopDoctor.Agent").ToArray();
    var mode = "none";
    var metrics = "none";
    foreach (var assembly in agents)
    {
        var current = assembly.GetType("LoopDoctor.Agent.LoopDoctorAgent")
            ?.GetProperty("Current", BindingFlags.Public | BindingFlags.Static)?.GetValue(null);
        if (current?.GetType().GetProperty("Options")?.GetValue(current) is { } options)
        {
            mode = options.GetType().GetProperty("Mode")?.GetValue(options)?.ToString() ?? "unknown";
            metrics = current.GetType().GetProperty("MetricsEndpoint")?.GetValue(current)?.ToString() ?? "none";
        }
    }

    return $"status assemblies={agents.Length} agent={mode} metrics={metrics}";
}
