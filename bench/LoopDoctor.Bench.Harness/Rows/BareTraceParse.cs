using System.Diagnostics;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Etlx;

namespace LoopDoctor.Bench.Rows;

/// <summary>
/// P6's baselines: TraceEvent reading a .nettrace and touching every event, nothing else; and the same through
/// <c>TraceLog</c> (conversion to .etlx, which resolves stacks), the floor for any analysis that reads stacks that way.
/// </summary>
internal static class BareTraceParse
{
    public static int RunThroughTraceLog(string path)
    {
        if (!File.Exists(path))
        {
            Console.Error.WriteLine($"bench: error: no such trace file: {path}");
            return 2;
        }

        var clock = Stopwatch.StartNew();
        var etlx = Path.Combine(Path.GetTempPath(), $"bench-{Environment.ProcessId}.etlx");
        long events = 0;
        try
        {
            TraceLog.CreateFromEventPipeDataFile(path, etlx);
            double converted = clock.Elapsed.TotalSeconds;
            using var log = new TraceLog(etlx);
            using var source = log.Events.GetSource();
            source.AllEvents += _ => events++;
            source.Process();
            Console.WriteLine($"events={events} convert_s={converted:F3} seconds={clock.Elapsed.TotalSeconds:F3}");
        }
        finally
        {
            File.Delete(etlx);
        }

        return 0;
    }

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
