using LoopDoctor.Cli.Findings;

namespace LoopDoctor.Cli.Reporting;

/// <summary>A Markdown report for pull requests and issues.</summary>
internal static class MarkdownReportWriter
{
    public static void Write(DiagnosisReport report, TextWriter w)
    {
        w.WriteLine($"# LoopDoctor: {report.Verdict.Name()}");
        w.WriteLine();
        w.WriteLine($"**{Escape(report.Summary)}**");
        if (report.NextStep is { } next)
        {
            w.WriteLine();
            w.WriteLine($"Next: {Escape(next)}");
        }

        w.WriteLine();
        w.WriteLine($"Target **{Escape(report.Target.ProcessName)}** (pid {report.Target.ProcessId}, {report.Target.RuntimeText}), {DurationText.FromSeconds(report.DurationSeconds)}, agent: {report.Agent.Name()}.");
        if (report.Incomplete is { } incomplete)
        {
            w.WriteLine();
            w.WriteLine($"> **Partial report:** {Escape(incomplete)}");
        }

        var pool = report.ThreadPool;
        w.WriteLine();
        w.WriteLine("| Thread pool | Value |");
        w.WriteLine("| --- | --- |");
        w.WriteLine($"| Threads (max) | {pool.ThreadCountMax} |");
        w.WriteLine($"| Queue length (max) | {pool.QueueLengthMax} |");
        w.WriteLine($"| Queue delay | {(pool.QueueDelayMilliseconds is { } d ? Escape(d.Describe()) : "n/a (needs the agent's probe)")} |");
        w.WriteLine($"| Threads injected (starvation / cooperative blocking) | {pool.InjectionsTotal} ({pool.Injections.Starvation} / {pool.Injections.CooperativeBlocking}) |");
        w.WriteLine();
        foreach (var unseen in report.Unseen)
        {
            w.WriteLine($"> **Cannot see:** {Escape(unseen)}");
            w.WriteLine();
        }

        if (report.Findings.Count == 0)
        {
            w.WriteLine("No problem found.");
            return;
        }

        w.WriteLine("## Findings");
        foreach (var f in report.Findings)
        {
            w.WriteLine();
            w.WriteLine($"### {f.Severity.Name()}: `{f.Kind}`");
            w.WriteLine();
            w.WriteLine(Escape(f.Title));
            if (ReportLinks.ExplainedBy(report, f, Code) is { } causes)
            {
                w.WriteLine();
                w.WriteLine($"Explained by {Escape(causes)}.");
            }

            foreach (var line in f.Evidence)
            {
                w.WriteLine($"- {Escape(line)}");
            }

            if (f.CallSites.Count > 0)
            {
                w.WriteLine();
                w.WriteLine("| Call site (innermost first) | Count | Total |");
                w.WriteLine("| --- | ---: | ---: |");
                foreach (var site in f.CallSites)
                {
                    var frames = site.Frames.Count == 0 ? Escape(site.Describe()) : string.Join(" ← ", site.Frames.Select(x => $"`{x}`"))
                                 + (site.Frames.Count > 0 && site.Endpoint is { } endpoint ? $", serving `{endpoint.Describe()}`" : "");
                    if (site.BlockingApi is { } api)
                    {
                        frames += site.Awaits is { Count: > 0 } awaits
                            ? $" (in `{api}`, waiting for {string.Join(", which awaits ", awaits.Select(a => $"`{a}`"))})"
                            : $" (in `{api}`)";
                    }

                    w.WriteLine($"| {frames.Replace("|", "\\|", StringComparison.Ordinal)} | {site.Count} | {DurationText.FromMilliseconds(site.TotalMilliseconds)} |");
                }
            }

            if (f.FrameworkLocks.Count > 0)
            {
                w.WriteLine();
                foreach (var frameworkLock in f.FrameworkLocks)
                {
                    w.WriteLine($"- {Escape(ReportLinks.Describe(frameworkLock, Code))}");
                }
            }

            w.WriteLine();
            w.WriteLine($"**Fix:** {Escape(f.Advice)}");
        }
    }

    private static string Code(string text) => $"`{text}`";

    private static string Escape(string text) => text.Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
}
