using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Xml;
using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Reporting;

namespace LoopDoctor.Cli.Baselines;

/// <summary>check's outputs: human text, JSON, Markdown (also for $GITHUB_STEP_SUMMARY) and JUnit XML (one test case per rule).</summary>
internal static class CheckOutput
{
    public static void Write(CheckResult result, ReportFormat format, TextWriter writer)
    {
        switch (format)
        {
            case ReportFormat.Json:
                WriteJson(result, writer);
                break;
            case ReportFormat.Markdown:
                WriteMarkdown(result, writer);
                break;
            default:
                WriteText(result, writer);
                break;
        }
    }

    public static void WriteText(CheckResult result, TextWriter w)
    {
        var inv = CultureInfo.InvariantCulture;
        var r = result.Report;
        w.WriteLine($"loopdoctor check: {(result.Passed ? "PASSED" : "FAILED")} — {r.Target.ProcessName} (pid {r.Target.ProcessId}), {r.DurationSeconds.ToString("0.0", inv)} s observed, first {result.WarmupSeconds.ToString("0.#", inv)} s not judged (warm-up)");
        w.WriteLine($"baseline: {(result.BaselinePath is null ? "none" : result.BaselinePath + (result.BaselineFound ? "" : " (not found: every culprit is new)"))}");
        if (r.ThreadPool.QueueDelayMilliseconds is { } d && result.JudgedQueueDelay is { } j)
        {
            w.WriteLine(string.Create(inv, $"queue delay: judged p50 {j.P50:0.#} ms, p99 {j.P99:0.#} ms (median of 1 s intervals); worst interval p99 {d.P99:0.##} ms"));
        }

        foreach (var rule in result.Rules)
        {
            w.WriteLine($"  [{Status(rule.Status)}] {rule.Name}: {rule.Summary}");
            foreach (var failure in rule.Failures)
            {
                w.WriteLine($"         - {failure.Message}");
                w.WriteLine($"           fix: {failure.Advice}");
            }
        }
    }

    public static void WriteMarkdown(CheckResult result, TextWriter w)
    {
        var inv = CultureInfo.InvariantCulture;
        var r = result.Report;
        w.WriteLine($"### LoopDoctor check: {(result.Passed ? "✅ passed" : "❌ failed")}");
        w.WriteLine();
        w.WriteLine($"`{Escape(r.Target.ProcessName)}` (pid {r.Target.ProcessId}), {r.DurationSeconds.ToString("0.0", inv)} s observed, warm-up {result.WarmupSeconds.ToString("0.#", inv)} s excluded" +
                    (result.JudgedQueueDelay is { } d ? string.Create(inv, $"; judged queue-delay p99 {d.P99:0.#} ms") : "") + ".");
        w.WriteLine();
        w.WriteLine("| rule | result | details |");
        w.WriteLine("|---|---|---|");
        foreach (var rule in result.Rules)
        {
            w.WriteLine($"| `{rule.Name}` | {Status(rule.Status)} | {Escape(rule.Summary)} |");
        }

        var failures = result.Rules.SelectMany(rule => rule.Failures).ToList();
        if (failures.Count > 0)
        {
            w.WriteLine();
            foreach (var failure in failures)
            {
                w.WriteLine($"- **{Escape(failure.Kind)}** at `{Escape(failure.CallSite)}`: {Escape(failure.Message)}  ");
                w.WriteLine($"  _Fix:_ {Escape(failure.Advice)}");
            }
        }

        w.WriteLine();
    }

    public static void WriteJson(CheckResult result, TextWriter writer)
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            var r = result.Report;
            json.WriteStartObject();
            json.WriteBoolean("passed", result.Passed);
            json.WriteString("baseline", result.BaselinePath);
            json.WriteBoolean("baselineFound", result.BaselineFound);
            json.WriteNumber("warmupSeconds", result.WarmupSeconds);
            json.WriteNumber("durationSeconds", r.DurationSeconds);
            json.WriteStartObject("target");
            json.WriteNumber("processId", r.Target.ProcessId);
            json.WriteString("processName", r.Target.ProcessName);
            json.WriteEndObject();
            if (r.ThreadPool.QueueDelayMilliseconds is { } d && result.JudgedQueueDelay is { } j)
            {
                json.WriteStartObject("queueDelayMilliseconds");
                json.WriteNumber("p50", j.P50);
                json.WriteNumber("p99", j.P99);
                json.WriteNumber("worstIntervalP99", d.P99);
                json.WriteEndObject();
            }
            else
            {
                json.WriteNull("queueDelayMilliseconds");
            }

            json.WriteStartArray("rules");
            foreach (var rule in result.Rules)
            {
                json.WriteStartObject();
                json.WriteString("name", rule.Name);
                json.WriteString("status", rule.Status.ToString().ToLowerInvariant());
                json.WriteString("summary", rule.Summary);
                json.WriteStartArray("failures");
                foreach (var failure in rule.Failures)
                {
                    json.WriteStartObject();
                    json.WriteString("kind", failure.Kind);
                    json.WriteString("callSite", failure.CallSite);
                    json.WriteString("message", failure.Message);
                    json.WriteString("advice", failure.Advice);
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("culprits");
            foreach (var culprit in Culprits.Of(r))
            {
                json.WriteStartObject();
                json.WriteString("kind", culprit.Kind);
                json.WriteString("callSite", culprit.Key);
                json.WriteString("severity", culprit.Severity.Name());
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        writer.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
    }

    /// <summary>JUnit XML: one &lt;testcase&gt; per rule; a failed rule carries one &lt;failure&gt; listing call sites and advice.</summary>
    public static void WriteJUnit(CheckResult result, string path)
    {
        var inv = CultureInfo.InvariantCulture;
        var settings = new XmlWriterSettings { Indent = true, Encoding = new UTF8Encoding(false), NewLineChars = "\n" };
        try
        {
            using var xml = XmlWriter.Create(path, settings);
            var failed = result.Rules.Count(r => r.Status == RuleStatus.Failed);
            var skipped = result.Rules.Count(r => r.Status == RuleStatus.Skipped);
            var time = result.Report.DurationSeconds.ToString("0.###", inv);
            xml.WriteStartElement("testsuites");
            xml.WriteAttributeString("name", "loopdoctor check");
            xml.WriteAttributeString("tests", result.Rules.Count.ToString(inv));
            xml.WriteAttributeString("failures", failed.ToString(inv));
            xml.WriteStartElement("testsuite");
            xml.WriteAttributeString("name", $"loopdoctor check {result.Report.Target.ProcessName}");
            xml.WriteAttributeString("tests", result.Rules.Count.ToString(inv));
            xml.WriteAttributeString("failures", failed.ToString(inv));
            xml.WriteAttributeString("errors", "0");
            xml.WriteAttributeString("skipped", skipped.ToString(inv));
            xml.WriteAttributeString("time", time);
            foreach (var rule in result.Rules)
            {
                xml.WriteStartElement("testcase");
                xml.WriteAttributeString("classname", "loopdoctor.check");
                xml.WriteAttributeString("name", rule.Name);
                xml.WriteAttributeString("time", time);
                switch (rule.Status)
                {
                    case RuleStatus.Failed:
                        xml.WriteStartElement("failure");
                        xml.WriteAttributeString("type", rule.Name);
                        xml.WriteAttributeString("message", rule.Summary);
                        xml.WriteString(string.Join("\n", rule.Failures.Select(f => $"{f.Kind} at {f.CallSite}: {f.Message}\nfix: {f.Advice}")));
                        xml.WriteEndElement();
                        break;
                    case RuleStatus.Skipped:
                        xml.WriteStartElement("skipped");
                        xml.WriteAttributeString("message", rule.Summary);
                        xml.WriteEndElement();
                        break;
                }

                xml.WriteEndElement();
            }

            xml.WriteEndElement();
            xml.WriteEndElement();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new LoopDoctorException(ExitCode.UsageError, $"Cannot write the JUnit file '{path}': {ex.Message}", ex);
        }
    }

    /// <summary>Appends the Markdown summary to $GITHUB_STEP_SUMMARY when set (GitHub Actions job summary).</summary>
    public static void AppendStepSummary(CheckResult result, TextWriter log)
    {
        if (Environment.GetEnvironmentVariable("GITHUB_STEP_SUMMARY") is not { Length: > 0 } path)
        {
            return;
        }

        try
        {
            using var file = new StreamWriter(path, append: true, new UTF8Encoding(false));
            WriteMarkdown(result, file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            log.WriteLine($"loopdoctor: cannot append to $GITHUB_STEP_SUMMARY ({path}): {ex.Message}");
        }
    }

    private static string Status(RuleStatus status) => status switch
    {
        RuleStatus.Passed => "pass",
        RuleStatus.Failed => "FAIL",
        _ => "skip",
    };

    private static string Escape(string text) =>
        text.Replace("|", "\\|", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
}
