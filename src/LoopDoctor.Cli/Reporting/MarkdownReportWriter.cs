using System.Globalization;
using LoopDoctor.Cli.Findings;

namespace LoopDoctor.Cli.Reporting;

/// <summary>A Markdown report for pull requests and issues.</summary>
internal static class MarkdownReportWriter
{
    public static void Write(DiagnosisReport report, TextWriter w)
    {
        var inv = CultureInfo.InvariantCulture;
        w.WriteLine($"# LoopDoctor: {report.Verdict.Name()}");
        w.WriteLine();
        w.WriteLine($"Target **{Escape(report.Target.ProcessName)}** (pid {report.Target.ProcessId}, {report.Target.RuntimeText}), {report.DurationSeconds.ToString("0.0", inv)} s, agent: {report.Agent.Name()}.");
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
        w.WriteLine($"| Queue delay p50 / p99 / max | {(pool.QueueDelayMilliseconds is { } d ? $"{d.P50.ToString("0.###", inv)} / {d.P99.ToString("0.###", inv)} / {d.Max.ToString("0.###", inv)} ms" : "n/a")} |");
        w.WriteLine($"| Injections (starvation / cooperative blocking) | {pool.Injections.Starvation} / {pool.Injections.CooperativeBlocking} |");
        w.WriteLine();
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
            foreach (var line in f.Evidence)
            {
                w.WriteLine($"- {Escape(line)}");
            }

            if (f.CallSites.Count > 0)
            {
                w.WriteLine();
                w.WriteLine("| Call site (innermost first) | Count | Total ms |");
                w.WriteLine("| --- | ---: | ---: |");
                foreach (var site in f.CallSites)
                {
                    var frames = site.Frames.Count == 0 ? "(unresolved)" : string.Join(" ← ", site.Frames.Select(x => $"`{x}`"));
                    if (site.BlockingApi is { } api)
                    {
                        frames += $" (in `{api}`)";
                    }

                    w.WriteLine($"| {frames.Replace("|", "\\|", StringComparison.Ordinal)} | {site.Count} | {site.TotalMilliseconds.ToString("0.#", inv)} |");
                }
            }

            w.WriteLine();
            w.WriteLine($"**Fix:** {Escape(f.Advice)}");
        }
    }

    private static string Escape(string text) => text.Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
}
