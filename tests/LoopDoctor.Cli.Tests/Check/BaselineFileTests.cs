using LoopDoctor.Cli.Baselines;
using LoopDoctor.Cli.Reporting;
using LoopDoctor.Cli.Tests.Reporting;

namespace LoopDoctor.Cli.Tests.Check;

/// <summary>Baseline files as written by every version so far (docs/ci.md), and hand-edited ones, still load.</summary>
public sealed class BaselineFileTests : IDisposable
{
    private readonly string _path = Path.GetTempFileName();

    public void Dispose() => File.Delete(_path);

    private Baseline Load(string json)
    {
        File.WriteAllText(_path, json);
        return Baseline.Load(_path);
    }

    [Fact]
    public void The_documented_example_loads()
    {
        var baseline = Load("""
            {
              "callSites": {
                "blocking-wait": [
                  "MyApp.Reports.ReportService.FetchReportBlocking"
                ],
                "lock-contention": [
                  "MyApp.Orders.Totals.RecalculateUnderLock"
                ]
              },
              "formatVersion": 1,
              "queueDelayMilliseconds": {
                "p50": 0.1,
                "p99": 12.4
              }
            }
            """);
        Assert.True(baseline.Accepts("blocking-wait", "MyApp.Reports.ReportService.FetchReportBlocking"));
        Assert.True(baseline.Accepts("lock-contention", "MyApp.Orders.Totals.RecalculateUnderLock"));
        Assert.Equal(new AcceptedQueueDelay(0.1, 12.4), baseline.QueueDelayMilliseconds);
    }

    [Fact]
    public void A_written_baseline_without_figures_loads_and_is_rewritten_identically()
    {
        var written = Baseline.Empty.ToJson();
        Assert.Equal("{\n  \"callSites\": {},\n  \"formatVersion\": 1,\n  \"queueDelayMilliseconds\": null\n}\n", written);
        var baseline = Load(written);
        Assert.Empty(baseline.CallSites);
        Assert.Null(baseline.QueueDelayMilliseconds);
        Assert.Equal(written, baseline.ToJson());
    }

    [Fact]
    public void Hand_edited_files_load_leniently()
    {
        // No formatVersion, no queue delay, empty and null keys, unknown fields, escaped characters.
        var baseline = Load("""{ "callSites": { "blocking-wait": ["", null, "A.B\u002BC.D"] }, "comment": "accepted by the team" }""");
        Assert.Equal(["A.B+C.D"], baseline.CallSites["blocking-wait"]);
        Assert.Null(baseline.QueueDelayMilliseconds);
        Assert.Empty(Load("{}").CallSites);
    }

    [Theory]
    [InlineData("{ not json")]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("""{ "queueDelayMilliseconds": { "p50": 1 } }""")]
    [InlineData("""{ "queueDelayMilliseconds": { "p50": "1", "p99": 2 } }""")]
    [InlineData("""{ "callSites": { "blocking-wait": "A.B" } }""")]
    public void A_corrupt_file_is_a_usage_error(string json)
    {
        var ex = Assert.Throws<LoopDoctorException>(() => Load(json));
        Assert.Equal(ExitCode.UsageError, ex.ExitCode);
        Assert.StartsWith("Cannot read the baseline", ex.Message);
    }

    [Fact]
    public void The_step_summary_is_appended_and_a_bad_path_is_one_log_line()
    {
        File.WriteAllText(_path, "earlier step\n");
        GitHubStepSummaryWriter.Append(ReportGoldenTests.PassedCheck(), _path, TextWriter.Null);
        var markdown = File.ReadAllText(_path);
        Assert.StartsWith("earlier step\n### LoopDoctor check: ✅ passed", markdown);
        var expected = new StringWriter();
        Reporters.Write(ReportGoldenTests.PassedCheck(), ReportFormat.Markdown, expected);
        Assert.Equal("earlier step\n" + expected, markdown);

        var log = new StringWriter();
        GitHubStepSummaryWriter.Append(ReportGoldenTests.PassedCheck(), Path.Combine(_path, "not-a-directory", "summary.md"), log);
        Assert.StartsWith("loopdoctor: cannot append to $GITHUB_STEP_SUMMARY", log.ToString());
    }
}
