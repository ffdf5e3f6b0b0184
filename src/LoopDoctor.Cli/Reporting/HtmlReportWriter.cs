using System.Globalization;
using System.Net;
using System.Text.Json;
using LoopDoctor.Cli.Baselines;
using LoopDoctor.Cli.Findings;

namespace LoopDoctor.Cli.Reporting;

/// <summary>
/// The report as one self-contained HTML page (<c>--format html</c>): the verdict, the findings with their call sites and
/// advice written here, and the timeline charts drawn in the browser by Html/report.js from the report's JSON document
/// embedded in the page. No external script, style or font: it opens offline and from a CI artifact.
/// </summary>
internal static class HtmlReportWriter
{
    private static readonly Lazy<string> Css = new(() => Resource("report.css"));
    private static readonly Lazy<string> Script = new(() => Resource("report.js"));

    public static void Write(DiagnosisReport report, TextWriter writer) => Write(report, null, writer);

    /// <summary>check's page: the same report with the rules it judged on top.</summary>
    public static void Write(CheckResult result, TextWriter writer) => Write(result.Report, result, writer);

    private static void Write(DiagnosisReport report, CheckResult? check, TextWriter w)
    {
        var inv = CultureInfo.InvariantCulture;
        var target = $"{report.Target.ProcessName} (pid {report.Target.ProcessId}, {report.Target.RuntimeText})";
        w.WriteLine("<!DOCTYPE html>");
        w.WriteLine("<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        w.WriteLine($"<title>loopdoctor: {E(target)}: {report.Verdict.Name()}</title>");
        w.WriteLine($"<style>{Css.Value}</style></head><body><main>");
        w.WriteLine($"<header><h1>loopdoctor {(check is null ? "report" : "check")}</h1><span id=\"verdict\" class=\"verdict verdict-{report.Verdict.Name()}\">{report.Verdict.Name()}</span></header>");
        w.WriteLine($"<p class=\"target\">{E(target)} · {(report.Source == ReportSource.File ? "trace file" : "live session")} of " +
                    $"<span data-ms=\"{N(report.DurationSeconds * 1000)}\">{report.DurationSeconds.ToString("0.#", inv)} s</span> · agent {report.Agent.Name()}</p>");
        if (report.Incomplete is { } incomplete)
        {
            w.WriteLine($"<p class=\"notice\">Incomplete: {E(incomplete)}.</p>");
        }

        WriteHeadline(report, w);
        if (check is not null)
        {
            WriteCheck(check, w);
        }

        w.WriteLine("<h2>Timeline</h2><div id=\"charts\"><noscript>The charts are drawn by the page's script: allow JavaScript for this file to see them.</noscript></div>");
        if (report.Timeline is { } timeline)
        {
            w.WriteLine($"<p class=\"note\">One shared time axis (seconds since the session began); each point covers {timeline.BucketSeconds.ToString("0.#", inv)} s" +
                        (timeline.BucketSeconds > 1 ? " (a long session: neighbouring seconds merged, keeping the worse value and the sum of counts)" : "") +
                        ". Queue delay and timer lag come from the LoopDoctor agent in the target. Hover a chart for its values.</p>");
        }

        WriteFindings(report, w);
        WritePool(report.ThreadPool, w);
        w.WriteLine("<div id=\"tooltip\"></div><div id=\"self-check\" hidden></div>");
        // The default encoder escapes <, > and &: the JSON cannot close its script element.
        w.WriteLine($"<script type=\"application/json\" id=\"report-data\">{JsonSerializer.Serialize(ReportDocument.From(report), ReportJsonContext.Default.ReportDocument)}</script>");
        w.WriteLine($"<script>{Script.Value}</script>");
        w.WriteLine("</main></body></html>");
    }

    /// <summary>The one line a reader forwards: the worst finding with a call site, above the charts (details below them).</summary>
    private static void WriteHeadline(DiagnosisReport report, TextWriter w)
    {
        var problems = report.Findings.Where(f => f.Severity >= Severity.Warning).ToList();
        if (problems.Count == 0)
        {
            w.WriteLine("<p class=\"headline\">No problem found.</p>");
            return;
        }

        var culprit = problems.FirstOrDefault(f => f.CallSites.Count > 0) ?? problems[0];
        var site = culprit.CallSites.FirstOrDefault();
        var where = site is null ? "" : $" at <code>{E(site.Describe())}</code>" + (site.BlockingApi is { } api ? $" (<code>{E(api)}</code>)" : "");
        w.WriteLine($"<p class=\"headline\"><strong>{culprit.Kind}</strong>{where}: {E(culprit.Title)} <a href=\"#findings\">The findings and the fix</a> follow the timeline.</p>");
    }

    private static void WriteCheck(CheckResult check, TextWriter w)
    {
        w.WriteLine($"<h2>Check: <span class=\"verdict {(check.Passed ? "check-passed" : "check-failed")}\">{(check.Passed ? "passed" : "failed")}</span></h2>");
        w.WriteLine("<table><thead><tr><th>Rule</th><th>Status</th><th>Summary</th></tr></thead><tbody>");
        foreach (var rule in check.Rules)
        {
            w.Write($"<tr><td><code>{E(rule.Name)}</code></td><td>{rule.Status.Label()}</td><td>{E(rule.Summary)}");
            foreach (var failure in rule.Failures)
            {
                w.Write($"<br><code>{E(failure.CallSite)}</code>: {E(failure.Message)}");
            }

            w.WriteLine("</td></tr>");
        }

        w.WriteLine("</tbody></table>");
    }

    private static void WriteFindings(DiagnosisReport report, TextWriter w)
    {
        w.WriteLine("<h2 id=\"findings\">Findings</h2>");
        if (report.Findings.Count == 0)
        {
            w.WriteLine("<p>No finding: the thread pool kept up and no blocking call site stood out.</p>");
            return;
        }

        var inv = CultureInfo.InvariantCulture;
        for (var i = 0; i < report.Findings.Count; i++)
        {
            var f = report.Findings[i];
            w.WriteLine($"<article class=\"finding sev-{f.Severity.Name()}\" id=\"finding-{i}\" data-kind=\"{f.Kind}\">");
            w.WriteLine($"<h3>{E(f.Title)}</h3>");
            w.Write($"<p class=\"meta\"><span class=\"sev\">{f.Severity.Name()}</span> · <code>{f.Kind}</code> · {f.Count.ToString(inv)}×");
            if (f.TotalMilliseconds > 0)
            {
                w.Write($" · total {Ms(f.TotalMilliseconds)}");
            }

            if (f.MaxMilliseconds > 0)
            {
                w.Write($" · longest {Ms(f.MaxMilliseconds)}");
            }

            if (f.ExceptionType is { } type)
            {
                w.Write($" · <code>{E(type)}</code>");
            }

            w.WriteLine("</p>");
            if (f.Evidence.Count > 0)
            {
                w.WriteLine("<ul>" + string.Concat(f.Evidence.Select(e => $"<li>{E(e)}</li>")) + "</ul>");
            }

            if (f.CallSites.Count > 0)
            {
                w.WriteLine("<table><thead><tr><th>Call site (innermost first)</th><th>Blocking API</th><th class=\"num\">Count</th><th class=\"num\">Total</th></tr></thead><tbody>");
                foreach (var site in f.CallSites)
                {
                    var frames = site.Frames.Count == 0 ? $"<li>{E(site.Describe())}</li>" : string.Concat(site.Frames.Select(fr => $"<li class=\"frame\">{E(fr)}</li>"))
                                 + (site.Frames.Count > 0 && site.Endpoint is { } endpoint ? $"<li>serving {E(endpoint.Describe())}</li>" : "");
                    var api = site.BlockingApi ?? (site.Activity is { } a ? (a == "cpu" ? "computing" : "blocked outside managed code") : "");
                    var awaiting = CallSiteText.Awaiting(site) is { } waitingFor ? $"<br>{E(waitingFor)}" : "";
                    w.WriteLine($"<tr><td><ul class=\"frames\">{frames}</ul></td><td><code>{E(api)}</code>{awaiting}</td><td class=\"num\">{site.Count.ToString(inv)}</td><td class=\"num\">{Ms(site.TotalMilliseconds)}</td></tr>");
                }

                w.WriteLine("</tbody></table>");
            }

            w.WriteLine($"<p class=\"advice\"><strong>Fix:</strong> {E(f.Advice)}</p></article>");
        }
    }

    private static void WritePool(ThreadPoolSummary pool, TextWriter w)
    {
        var inv = CultureInfo.InvariantCulture;
        w.WriteLine("<h2>Thread pool over the session</h2><table><tbody>");
        // The same words as the text report: each figure says which observations it comes from (issue 18).
        var delay = pool.QueueDelayMilliseconds is { } d ? E(d.Describe()) : "not measured (no agent in the target)";
        w.WriteLine($"<tr><th>Queue delay</th><td>{delay}</td></tr>");
        w.WriteLine($"<tr><th>Worker threads</th><td>{pool.ThreadCountMin.ToString(inv)}–{pool.ThreadCountMax.ToString(inv)} (last {pool.ThreadCountLast.ToString(inv)})</td></tr>");
        w.WriteLine($"<tr><th>Queue length (max)</th><td>{pool.QueueLengthMax.ToString(inv)}</td></tr>");
        w.WriteLine($"<tr><th>Injections</th><td>{pool.Injections.Starvation.ToString(inv)} starvation, {pool.Injections.CooperativeBlocking.ToString(inv)} cooperative blocking</td></tr>");
        w.WriteLine("</tbody></table>");
    }

    // The script rewrites data-ms spans with the shared duration rule; the text inside is what a page without script shows.
    private static string Ms(double ms) => $"<span data-ms=\"{N(ms)}\">{N(ms)} ms</span>";

    private static string N(double value) => Math.Round(value, 3).ToString("0.###", CultureInfo.InvariantCulture);

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private static string Resource(string name)
    {
        using var stream = typeof(HtmlReportWriter).Assembly.GetManifestResourceStream("LoopDoctor.Cli.Reporting.Html." + name)
                           ?? throw new InvalidOperationException($"The HTML report's {name} is not embedded in loopdoctor.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
