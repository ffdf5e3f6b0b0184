using System.Text.Json;
using LoopDoctor.Cli.Projections;
using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Reporting;

namespace LoopDoctor.Cli.Tests;

/// <summary>Memory stays bounded under floods (issue 7): caps fold the overflow into "other"; lost events are reported.</summary>
public class BoundedAggregationTests
{
    [Fact]
    public void Call_sites_beyond_the_cap_are_counted_as_other_with_totals_intact()
    {
        var aggregator = new CallSiteTotals(maxEntries: 10);
        for (var i = 0; i < 1000; i++)
        {
            aggregator.Add(threadId: 1, [$"App.Site{i}"], null, durationMs: 1);
        }

        Assert.Equal(990, aggregator.Overflowed);
        var summary = aggregator.Summarize(_ => true, maxCallSites: 100);
        Assert.Equal(1000, summary.Count);
        Assert.Equal(1000, summary.TotalMs, 3);
        Assert.Equal(11, summary.CallSites.Count); // 10 distinct + "other"
        var other = summary.CallSites.Single(c => c.Frames[0] == CallSiteTotals.OtherCallSites);
        Assert.Equal(990, other.Count);
    }

    [Fact]
    public void Known_call_sites_keep_counting_after_the_cap()
    {
        var aggregator = new CallSiteTotals(maxEntries: 1);
        aggregator.Add(1, ["App.Known"], null, 1);
        aggregator.Add(1, ["App.New"], null, 1);
        aggregator.Add(1, ["App.Known"], null, 1);
        var sites = aggregator.Summarize(_ => true, 10).CallSites;
        Assert.Equal(2, sites.Single(c => c.Frames[0] == "App.Known").Count);
        Assert.Equal(1, aggregator.Overflowed);
    }

    private static DiagnosisReport Report() => new(new TargetInfo(42, "app"), 30, AgentPresence.None, Verdict.Healthy, [],
        new ThreadPoolSummary(null, 4, 4, 0, new InjectionCounts(0, 0)));

    [Fact]
    public void Lost_events_mark_the_report_partial_in_json_and_text()
    {
        var report = Report().WithEventsLost(1234);
        var json = new StringWriter();
        JsonReportWriter.Write(report, json);
        using var doc = JsonDocument.Parse(json.ToString());
        Assert.Equal(1234, doc.RootElement.GetProperty("eventsLost").GetInt64());
        Assert.Contains("lost 1234 events", doc.RootElement.GetProperty("incomplete").GetString());

        var text = new StringWriter();
        TextReportWriter.Write(report, text);
        Assert.Contains("Warning: 1234 events lost", text.ToString());
    }

    [Fact]
    public void No_lost_events_means_a_complete_report()
    {
        var report = Report().WithEventsLost(0);
        var json = new StringWriter();
        JsonReportWriter.Write(report, json);
        using var doc = JsonDocument.Parse(json.ToString());
        Assert.Equal(0, doc.RootElement.GetProperty("eventsLost").GetInt64());
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("incomplete").ValueKind);
    }
}
