using System.Text.Encodings.Web;
using System.Text.Json;
using LoopDoctor.Cli.Findings;

namespace LoopDoctor.Cli.Reporting;

/// <summary>
/// The JSON contract (docs/report.schema.json): one object; field names and meanings never change, fields may be added.
/// Written by hand with Utf8JsonWriter so the contract is visible here, not inferred from record shapes.
/// </summary>
internal static class JsonReportWriter
{
    public const int SchemaVersion = 1;

    public static void Write(DiagnosisReport report, TextWriter writer)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            Write(report, json);
        }

        writer.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
    }

    private static void Write(DiagnosisReport report, Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteNumber("schemaVersion", SchemaVersion);
        json.WriteStartObject("target");
        json.WriteNumber("processId", report.Target.ProcessId);
        json.WriteString("processName", report.Target.ProcessName);
        json.WriteEndObject();
        json.WriteString("source", report.Source);
        json.WriteNumber("durationSeconds", report.DurationSeconds);
        json.WriteString("agent", report.Agent.Name());
        json.WriteString("verdict", report.Verdict.Name());
        if (report.Incomplete is { } incomplete)
        {
            json.WriteString("incomplete", incomplete);
        }
        else
        {
            json.WriteNull("incomplete");
        }

        json.WriteNumber("eventsLost", report.EventsLost);

        json.WriteStartArray("findings");
        foreach (var finding in report.Findings)
        {
            json.WriteStartObject();
            json.WriteString("kind", finding.Kind);
            json.WriteString("severity", finding.Severity.Name());
            json.WriteString("title", finding.Title);
            json.WriteString("advice", finding.Advice);
            json.WriteNumber("count", finding.Count);
            json.WriteNumber("totalMilliseconds", finding.TotalMilliseconds);
            json.WriteNumber("maxMilliseconds", finding.MaxMilliseconds);
            if (finding.ExceptionType is { } type)
            {
                json.WriteString("exceptionType", type);
            }

            json.WriteStartArray("evidence");
            foreach (var line in finding.Evidence)
            {
                json.WriteStringValue(line);
            }

            json.WriteEndArray();
            json.WriteStartArray("callSites");
            foreach (var site in finding.CallSites)
            {
                json.WriteStartObject();
                json.WriteStartArray("frames");
                foreach (var frame in site.Frames)
                {
                    json.WriteStringValue(frame);
                }

                json.WriteEndArray();
                json.WriteNumber("count", site.Count);
                json.WriteNumber("totalMilliseconds", site.TotalMilliseconds);
                if (site.BlockingApi is { } api)
                {
                    json.WriteString("blockingApi", api);
                }

                if (site.Activity is { } activity)
                {
                    json.WriteString("activity", activity);
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        json.WriteEndArray();
        var pool = report.ThreadPool;
        json.WriteStartObject("threadPool");
        if (pool.QueueDelayMilliseconds is { } delay)
        {
            json.WriteStartObject("queueDelayMilliseconds");
            json.WriteNumber("p50", delay.P50);
            json.WriteNumber("p99", delay.P99);
            json.WriteNumber("max", delay.Max);
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("queueDelayMilliseconds");
        }

        json.WriteNumber("threadCountMax", pool.ThreadCountMax);
        json.WriteNumber("threadCountMin", pool.ThreadCountMin);
        json.WriteNumber("queueLengthMax", pool.QueueLengthMax);
        json.WriteStartObject("injections");
        json.WriteNumber("starvation", pool.Injections.Starvation);
        json.WriteNumber("cooperativeBlocking", pool.Injections.CooperativeBlocking);
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteEndObject();
    }
}
