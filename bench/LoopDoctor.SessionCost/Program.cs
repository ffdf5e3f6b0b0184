using LoopDoctor.Agent.RuntimeSignals;
using LoopDoctor.Cli.Sources;
using Microsoft.Diagnostics.NETCore.Client;

// sessioncost PID PARTS: opens the providers of `monitor`'s session named by PARTS (comma-separated: runtime, gc,
// metrics, agent; runtime without gc leaves the GC keyword out), prints "ready", and reads the stream until killed.
if (args.Length != 2 || !int.TryParse(args[0], out var pid))
{
    Console.Error.WriteLine("usage: sessioncost PID runtime[,gc][,metrics][,agent]");
    return 2;
}

var parts = args[1].Split(',', StringSplitOptions.RemoveEmptyEntries);
string[] known = ["runtime", "gc", "metrics", "agent"];
if (parts.FirstOrDefault(p => !known.Contains(p)) is { } unknown)
{
    Console.Error.WriteLine($"sessioncost: unknown part '{unknown}' (known: {string.Join(", ", known)})");
    return 2;
}

var providers = new List<EventPipeProvider>();
foreach (var provider in SessionProviders.Create(TimeSpan.FromSeconds(1), sampleStacks: false))
{
    if (provider.Name == SessionProviders.RuntimeProvider && parts.Contains("runtime"))
    {
        var keywords = parts.Contains("gc") ? provider.Keywords : provider.Keywords & ~RuntimeKeywords.Gc;
        providers.Add(new EventPipeProvider(provider.Name, provider.EventLevel, keywords, provider.Arguments));
    }
    else if ((provider.Name == SessionProviders.MetricsProvider && parts.Contains("metrics"))
             || (provider.Name == SessionProviders.AgentProvider && parts.Contains("agent")))
    {
        providers.Add(provider);
    }
}

try
{
    using var session = new DiagnosticsClient(pid).StartEventPipeSession(providers, requestRundown: false);
    Console.WriteLine("ready");
    var buffer = new byte[1 << 16];
    while (session.EventStream.Read(buffer, 0, buffer.Length) > 0)
    {
    }

    return 0;
}
catch (Exception e) when (e is ServerNotAvailableException or UnsupportedCommandException or IOException)
{
    Console.Error.WriteLine($"sessioncost: {e.Message.Split('\n')[0]}");
    return 1;
}

