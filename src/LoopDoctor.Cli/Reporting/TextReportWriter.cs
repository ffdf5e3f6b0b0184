using System.Globalization;
using LoopDoctor.Cli.Findings;

namespace LoopDoctor.Cli.Reporting;

/// <summary>The human report: verdict first, then each finding with its call sites and the fix.</summary>
internal static class TextReportWriter
{
    public static void Write(DiagnosisReport report, TextWriter w)
    {
        var inv = CultureInfo.InvariantCulture;
        w.WriteLine($"LoopDoctor diagnosis of {report.Target.ProcessName} (pid {report.Target.ProcessId}, {report.Target.RuntimeText}) over {report.DurationSeconds.ToString("0.0", inv)} s, agent: {report.Agent.Name()}");
        if (report.Incomplete is { } incomplete)
        {
            w.WriteLine($"PARTIAL REPORT: {incomplete}");
        }

        if (report.EventsLost > 0)
        {
            w.WriteLine($"Warning: {report.EventsLost} events lost by the session; counts below are lower bounds.");
        }

        w.WriteLine($"Verdict: {report.Verdict.Name().ToUpperInvariant()}" + (report.Findings.Count == 0 ? " - no problem found." : ""));
        var pool = report.ThreadPool;
        var delay = pool.QueueDelayMilliseconds is { } d
            ? $"queue delay p50 {d.P50.ToString("0.###", inv)} ms, p99 {d.P99.ToString("0.###", inv)} ms, max {d.Max.ToString("0.###", inv)} ms"
            : "queue delay n/a (needs the agent's probe)";
        w.WriteLine($"Thread pool: {pool.ThreadCountMax} threads max, queue length max {pool.QueueLengthMax}, {delay}, injections: {pool.Injections.Starvation} starvation, {pool.Injections.CooperativeBlocking} cooperative-blocking");
        var n = 0;
        foreach (var f in report.Findings)
        {
            w.WriteLine();
            w.WriteLine($"{++n}. [{f.Severity.Name()}] {f.Kind}: {f.Title}");
            foreach (var line in f.Evidence)
            {
                w.WriteLine($"   - {line}");
            }

            foreach (var site in f.CallSites)
            {
                var extra = site.BlockingApi is { } api ? $", in {api}" : "";
                extra += site.Activity is { } act ? $", {act}" : "";
                var total = site.TotalMilliseconds > 0 ? $", {site.TotalMilliseconds.ToString("0.#", inv)} ms" : "";
                w.WriteLine($"   at {site.Describe()} ({site.Count}x{total}{extra})");
                foreach (var frame in site.Frames.Skip(1))
                {
                    w.WriteLine($"      called from {frame}");
                }
            }

            w.WriteLine($"   Fix: {f.Advice}");
        }
    }
}
