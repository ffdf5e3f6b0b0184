using System.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace BlockingApp.Scenarios;

/// <summary>
/// <c>/gc-pressure</c>: a cache of rendered reports (about 200 MB of small objects, built on first use) that, after each
/// refresh, calls <c>GC.Collect()</c> "to give the memory back": every call is a full blocking collection over the whole
/// cache, which stops every thread of the process, so every request's latency jumps while no thread is blocked. The twin
/// refreshes the entry in place and leaves collecting to the GC.
/// </summary>
public static class GcPressureScenario
{
    private static readonly Lazy<ReportCache> Cache = new(() => new ReportCache(reports: 2000, linesPerReport: 1000));
    private static int _next;

    public static IResult Handle([FromQuery(Name = "fixed")] bool isFixed = false)
    {
        var started = Stopwatch.GetTimestamp();
        var id = Interlocked.Increment(ref _next) % 2000;
        // Every 20th request refreshes a report; the others read one.
        var lines = id % 20 != 0 ? Cache.Value.Read(id) : isFixed ? Cache.Value.Refresh(id) : Cache.Value.RefreshAndCollect(id);
        return ScenarioResponse.Ok("gc-pressure", isFixed, started, $"lines={lines}");
    }
}

public sealed class ReportCache
{
    private readonly string[][] _reports;
    private readonly int _linesPerReport;

    public ReportCache(int reports, int linesPerReport)
    {
        _linesPerReport = linesPerReport;
        _reports = new string[reports][];
        for (var id = 0; id < reports; id++)
        {
            _reports[id] = Render(id);
        }
    }

    public int Read(int id) => Volatile.Read(ref _reports[id]).Length;

    /// <summary>The culprit: a full, blocking GC after every refresh.</summary>
    public int RefreshAndCollect(int id)
    {
        var lines = Refresh(id);
        GC.Collect();
        return lines;
    }

    /// <summary>The fix: replace the entry; the old one is garbage the GC collects when it decides to.</summary>
    public int Refresh(int id)
    {
        var report = Render(id);
        Volatile.Write(ref _reports[id], report);
        return report.Length;
    }

    private string[] Render(int id)
    {
        var lines = new string[_linesPerReport];
        for (var line = 0; line < lines.Length; line++)
        {
            lines[line] = $"report {id} line {line}: {Guid.NewGuid()}";
        }

        return lines;
    }
}
