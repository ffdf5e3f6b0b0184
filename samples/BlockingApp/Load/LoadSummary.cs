using System.Globalization;
using System.Text;
using LoopDoctor.Agent;

namespace BlockingApp.Load;

/// <summary>
/// The result of a load run, printed as one <c>key=value</c> line so scripts and tests can read it.
/// <c>sent = completed + failed + unfinished</c>: completed = 2xx answers, failed = other statuses or transport errors,
/// unfinished = still outstanding when the drain period ended (cancelled). Latencies are of completed requests,
/// measured from when each request was <em>due</em>, not when it left, so a late send counts against the server.
/// </summary>
internal sealed record LoadSummary(
    string Scenario,
    bool Fixed,
    Uri Url,
    double RequestsPerSecond,
    TimeSpan? PlannedDuration,
    TimeSpan Elapsed,
    bool Interrupted,
    long Sent,
    long Completed,
    long Failed,
    IReadOnlyDictionary<string, long> Errors,
    IReadOnlyList<double> LatenciesMsSorted)
{
    public long Unfinished => Sent - Completed - Failed;

    /// <summary>Only for fire-and-forget: the target's UnobservedTaskException count after the final forced GC.</summary>
    public long? UnobservedTaskExceptions { get; init; }

    public string Format()
    {
        var s = new StringBuilder("summary");
        Append(s, "scenario", Scenario);
        Append(s, "fixed", Fixed ? "true" : "false");
        Append(s, "url", Url.AbsoluteUri);
        Append(s, "rps", Number(RequestsPerSecond));
        Append(s, "duration", PlannedDuration is { } d ? DurationParser.Format(d) : "until-stopped");
        Append(s, "elapsed_s", Number(Elapsed.TotalSeconds));
        Append(s, "interrupted", Interrupted ? "true" : "false");
        Append(s, "sent", Sent.ToString(CultureInfo.InvariantCulture));
        Append(s, "completed", Completed.ToString(CultureInfo.InvariantCulture));
        Append(s, "failed", Failed.ToString(CultureInfo.InvariantCulture));
        Append(s, "unfinished", Unfinished.ToString(CultureInfo.InvariantCulture));
        Append(s, "p50_ms", Number(LatencyStatistics.Percentile(LatenciesMsSorted, 50)));
        Append(s, "p99_ms", Number(LatencyStatistics.Percentile(LatenciesMsSorted, 99)));
        Append(s, "max_ms", Number(LatenciesMsSorted.Count > 0 ? LatenciesMsSorted[^1] : double.NaN));
        if (Errors.Count > 0)
        {
            Append(s, "errors", string.Join(',', Errors.OrderByDescending(e => e.Value).Select(e => $"{e.Key}:{e.Value}")));
        }

        if (UnobservedTaskExceptions is { } unobserved)
        {
            Append(s, "unobserved_task_exceptions", unobserved.ToString(CultureInfo.InvariantCulture));
        }

        return s.ToString();
    }

    private static void Append(StringBuilder s, string key, string value) => s.Append(' ').Append(key).Append('=').Append(value);

    private static string Number(double value) =>
        double.IsNaN(value) ? "NaN" : value.ToString("0.###", CultureInfo.InvariantCulture);
}
