using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Projections;
using LoopDoctor.Cli.Reporting;
using LoopDoctor.Cli.Runs;
using LoopDoctor.Cli.Signals;
using LoopDoctor.Cli.Tests.Detectors;
using LoopDoctor.Testing;
using Xunit.Abstractions;

namespace LoopDoctor.Cli.Tests.Reporting;

/// <summary>
/// The HTML report rendered by the real headless Chromium: the page's own script writes what it drew into
/// #self-check (points per chart, the axis, the hover text, script errors), and the tests read it from the DOM.
/// </summary>
public partial class HtmlReportTests(ITestOutputHelper output)
{
    /// <summary>What the page's script wrote about itself.</summary>
    internal sealed record PageCheck(string Status, IReadOnlyDictionary<string, int> Points, IReadOnlyDictionary<string, int> NonZero, string Unmeasured, double AxisStart, double AxisEnd, double Duration, int Episodes, string Hover, string Errors, IReadOnlyDictionary<string, int> GcPauseMarks)
    {
        public static PageCheck From(string dom)
        {
            var tag = SelfCheckTag().Match(dom);
            Assert.True(tag.Success, "no #self-check element in the page's DOM");
            var attributes = DataAttribute().Matches(tag.Value).ToDictionary(m => m.Groups["name"].Value, m => WebUtility.HtmlDecode(m.Groups["value"].Value));
            string Get(string name) => attributes.GetValueOrDefault(name, "");
            double Number(string name) => double.TryParse(Get(name), System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : double.NaN;
            Dictionary<string, int> Counts(string name) => Get(name) is { Length: > 0 } json ? JsonSerializer.Deserialize<Dictionary<string, int>>(json)! : [];
            return new PageCheck(Get("status"), Counts("points"), Counts("nonzero"), Get("unmeasured"), Number("axis-start"), Number("axis-end"), Number("duration"), (int)Number("episodes"), Get("hover"), Get("errors"), Counts("gc-pauses"));
        }

        /// <summary>Every chart drew points, the axis spans the session, a hover shows a value, no script error.</summary>
        public void AssertComplete(int charts)
        {
            Assert.True(Status == "rendered", $"status '{Status}', errors: {Errors}");
            Assert.Equal("", Errors);
            Assert.Equal(charts, Points.Count);
            Assert.All(Points, p => Assert.True(p.Value > 0, $"chart {p.Key} has no data point"));
            Assert.Equal("", Unmeasured);
            Assert.Equal(0, AxisStart);
            Assert.True(AxisEnd >= Duration && Duration > 0, $"axis 0–{AxisEnd} s, session {Duration} s");
            Assert.Matches(@"\d", Hover);
        }

        /// <summary>The lag charts each drew one band per GC pause in the page's JSON (read from the page, not from the script).</summary>
        public void AssertGcPausesDrawn(string dom)
        {
            var json = ReportData().Match(dom);
            Assert.True(json.Success, "no report-data script in the page");
            using var report = JsonDocument.Parse(WebUtility.HtmlDecode(json.Groups["json"].Value));
            var inJson = report.RootElement.GetProperty("timeline").GetProperty("gcPauses").GetArrayLength();
            Assert.Equal(["queue-delay", "timer-lag"], GcPauseMarks.Keys.Order());
            Assert.All(GcPauseMarks, marks => Assert.True(marks.Value == inJson, $"{marks.Key}: {marks.Value} GC pause bands, {inJson} pauses in the JSON"));
            Assert.Equal(inJson, Regex.Matches(dom, "class=\"gc-pause\"").Count / 2);
            Assert.Contains("GC pause over the lag threshold", dom);
        }
    }

    [GeneratedRegex("<script[^>]*id=\"report-data\"[^>]*>(?<json>.*?)</script>", RegexOptions.Singleline)]
    private static partial Regex ReportData();

    [GeneratedRegex("<div[^>]*id=\"self-check\"[^>]*>")]
    private static partial Regex SelfCheckTag();

    [GeneratedRegex("data-(?<name>[a-z-]+)=\"(?<value>[^\"]*)\"")]
    private static partial Regex DataAttribute();

    private const int Charts = 6;

    /// <summary>Ten minutes of a sync-over-async app as the signals show it, second by second.</summary>
    internal static DiagnosisReport TenMinuteSession()
    {
        var pipeline = new DiagnosisPipeline();
        var blocking = SignalBuilder.PoolStack("MyApp.Reports.ReportController.FetchReportBlocking", "MyApp.Reports.ReportController.Get");
        var random = new Random(14);
        pipeline.Observe(new AgentStarted(0, "1.0", "injected"));
        for (var s = 0; s < 600; s++)
        {
            var at = s * 1000.0;
            var stalled = s % 120 is > 60 and < 80;
            // A gen2 pause of 300 ms in every stall, and gen0 ones of 3 ms (under the threshold: not drawn) every 10 s.
            if (s % 120 == 70 || s % 10 == 5)
            {
                var pauseMs = s % 120 == 70 ? 300 : 3;
                pipeline.Observe(new GcSuspensionStarted(at + 100, 1));
                pipeline.Observe(new GcStarted(at + 101, 1, 1, pauseMs > 100 ? 2 : 0, GcReason.SmallObjectAllocation, GcType.Blocking, CallStack.Empty));
                pipeline.Observe(new GcRestarted(at + 100 + pauseMs, 1));
            }

            var p99 = stalled ? 400 + random.Next(600) : 2 + random.Next(10);
            pipeline.Observe(new MetricHistogram(at + 5, ThreadPoolStatistics.AgentMeter, ThreadPoolStatistics.QueueDelayInstrument,
                new Dictionary<double, double> { [0.5] = p99 / 4000.0, [0.99] = p99 / 1000.0 }, 50));
            pipeline.Observe(new MetricHistogram(at + 6, ThreadPoolStatistics.AgentMeter, ThreadPoolStatistics.TimerLagInstrument,
                new Dictionary<double, double> { [0.5] = 0.001, [0.99] = (stalled ? 300 : 3) / 1000.0 }, 10));
            pipeline.Observe(new MetricValue(at + 7, ThreadPoolStatistics.RuntimeMeter, ThreadPoolStatistics.ThreadCountInstrument, stalled ? 8 + (s % 120) - 60 : 8));
            if (stalled)
            {
                pipeline.Observe(new PoolAdjustment(at + 8, 1, 8 + (s % 120) - 60, s % 2 == 0 ? AdjustmentReason.CooperativeBlocking : AdjustmentReason.Starvation));
                for (var t = 0; t < 5; t++)
                {
                    pipeline.Observe(new PoolThreadSeen(at + 10 + t, 100 + t));
                    pipeline.Observe(new WaitStarted(at + 20 + t, 100 + t, WaitSource.Unknown, blocking));
                    pipeline.Observe(new WaitStopped(at + 900 + t, 100 + t));
                }
            }
            else if (s % 30 == 0)
            {
                pipeline.Observe(new PoolAdjustment(at + 8, 1, 8, AdjustmentReason.ClimbingMove));
            }
        }

        return pipeline.BuildReport(new TargetInfo(4242, "MyApp"), 600, AgentPresence.Injected);
    }

    private static string Html(DiagnosisReport report)
    {
        var writer = new StringWriter();
        HtmlReportWriter.Write(report, writer);
        return writer.ToString();
    }

    [Fact]
    public void A_ten_minute_session_is_one_small_page_with_nothing_to_fetch()
    {
        var report = TenMinuteSession();
        var html = Html(report);
        var kilobytes = System.Text.Encoding.UTF8.GetByteCount(html) / 1024.0;
        var json = new StringWriter();
        JsonReportWriter.Write(report, json);
        output.WriteLine($"10-minute session: {kilobytes:0} KB of HTML, {System.Text.Encoding.UTF8.GetByteCount(json.ToString()) / 1024.0:0} KB of (indented) JSON");

        Assert.True(kilobytes < 150, $"{kilobytes:0} KB");
        // Self-contained: no script, style, image or font from elsewhere.
        Assert.DoesNotMatch(@"(?i)<script[^>]+src=|<link\b|<img\b|@import|url\(|https?://(?!www\.w3\.org/2000/svg)", html);
        Assert.Contains("FetchReportBlocking", html);
    }

    [Fact]
    public void The_embedded_json_cannot_close_its_script_element()
    {
        var report = ReportGoldenTests.Rich() with { Timeline = new ReportTimeline(1, [], []) };

        var html = Html(report);

        Assert.Equal(2, Regex.Matches(html, "</script>").Count);
        Assert.Contains("Blocking&lt;App&gt;", html);
    }

    [Fact]
    public void Check_s_page_has_its_rules_above_the_diagnosis()
    {
        var writer = new StringWriter();

        Reporters.Write(ReportGoldenTests.FailedCheck(), ReportFormat.Html, writer);

        var html = writer.ToString();
        Assert.Contains("check-failed", html);
        Assert.True(html.IndexOf("new-culprits", StringComparison.Ordinal) < html.IndexOf("id=\"findings\"", StringComparison.Ordinal), "rules after the findings");
    }

    [Fact]
    public async Task Chromium_draws_every_chart_of_a_ten_minute_session_on_one_axis()
    {
        var path = Path.Combine(Path.GetTempPath(), $"loopdoctor-html-{Guid.NewGuid():N}.html");
        try
        {
            await File.WriteAllTextAsync(path, Html(TenMinuteSession()));

            var dom = await HeadlessChromium.DumpDomAsync(path);
            var page = PageCheck.From(dom);

            page.AssertComplete(Charts);
            Assert.Equal(600, page.AxisEnd);
            Assert.True(page.Episodes >= 5, $"{page.Episodes} episodes marked");
            page.AssertGcPausesDrawn(dom);
            Assert.Equal(5, page.GcPauseMarks["queue-delay"]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Chromium_runs_the_page_of_a_report_without_a_timeline_without_error()
    {
        var path = Path.Combine(Path.GetTempPath(), $"loopdoctor-html-{Guid.NewGuid():N}.html");
        try
        {
            await File.WriteAllTextAsync(path, Html(ReportGoldenTests.Minimal()));

            var page = PageCheck.From(await HeadlessChromium.DumpDomAsync(path));

            Assert.Equal("no-timeline", page.Status);
            Assert.Equal("", page.Errors);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
