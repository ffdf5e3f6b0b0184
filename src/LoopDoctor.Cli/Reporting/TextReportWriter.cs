using System.Globalization;
using LoopDoctor.Cli.Findings;

namespace LoopDoctor.Cli.Reporting;

/// <summary>The human report: the verdict in one sentence and the next step first, then each finding with its links, call sites and the fix.</summary>
internal static class TextReportWriter
{
    public static void Write(DiagnosisReport report, TextWriter w)
    {
        w.WriteLine($"LoopDoctor diagnosis of {report.Target.ProcessName} (pid {report.Target.ProcessId}, {report.Target.RuntimeText}) over {DurationText.FromSeconds(report.DurationSeconds)}, agent: {report.Agent.Name()}");
        if (report.Incomplete is { } incomplete)
        {
            w.WriteLine($"PARTIAL REPORT: {incomplete}");
        }

        if (report.EventsLost > 0)
        {
            w.WriteLine($"Warning: {report.EventsLost} events lost by the session; counts below are lower bounds.");
        }

        w.WriteLine(report.Summary);
        if (report.NextStep is { } next)
        {
            w.WriteLine($"Next: {next}");
        }

        var pool = report.ThreadPool;
        w.WriteLine($"Thread pool: {pool.ThreadCountMax} threads max, queue length max {pool.QueueLengthMax}, {pool.InjectionsTotal} threads injected ({pool.Injections.Starvation} starvation, {pool.Injections.CooperativeBlocking} cooperative blocking)");
        w.WriteLine($"Queue delay: {(pool.QueueDelayMilliseconds is { } d ? d.Describe() : "n/a (needs the agent's probe)")}");
        foreach (var unseen in report.Unseen)
        {
            w.WriteLine($"Cannot see: {unseen}");
        }
        var n = 0;
        foreach (var f in report.Findings)
        {
            w.WriteLine();
            w.WriteLine($"{++n}. [{f.Severity.Name()}] {f.Kind}: {f.Title}");
            if (ReportLinks.ExplainedBy(report, f) is { } causes)
            {
                w.WriteLine($"   Explained by {causes}.");
            }

            foreach (var line in f.Evidence)
            {
                w.WriteLine($"   - {line}");
            }

            foreach (var site in f.CallSites)
            {
                var extra = site.BlockingApi is { } api ? $", in {api}" : "";
                extra += CallSiteText.Awaiting(site) is { } awaiting ? $", {awaiting}" : "";
                extra += site.Activity is { } act ? $", {act}" : "";
                var total = site.TotalMilliseconds > 0 ? $", {DurationText.FromMilliseconds(site.TotalMilliseconds)}" : "";
                w.WriteLine($"   at {site.Describe()} ({site.Count.ToString(CultureInfo.InvariantCulture)}x{total}{extra})");
                foreach (var frame in site.Frames.Skip(1))
                {
                    w.WriteLine($"      called from {frame}");
                }
            }

            foreach (var frameworkLock in f.FrameworkLocks)
            {
                w.WriteLine($"   + {ReportLinks.Describe(frameworkLock)}");
            }

            w.WriteLine($"   Fix: {f.Advice}");
        }
    }
}
