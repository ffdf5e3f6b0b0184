using System.Diagnostics;
using Microsoft.Diagnostics.Tracing;

namespace LoopDoctor.Bench.Rows;

/// <summary>P6's baseline: TraceEvent reading a .nettrace and touching every event, nothing else.</summary>
internal static class BareTraceParse
{
    public static int Run(string path)
    {
        if (!File.Exists(path))
        {
            Console.Error.WriteLine($"bench: error: no such trace file: {path}");
            return 2;
        }

        var clock = Stopwatch.StartNew();
        long events = 0;
        using (var source = new EventPipeEventSource(path))
        {
            source.AllEvents += _ => events++;
            source.Process();
        }

        Console.WriteLine($"events={events} seconds={clock.Elapsed.TotalSeconds:F3}");
        return 0;
    }
}
