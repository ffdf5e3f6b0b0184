using LoopDoctor.Cli.Baselines;
using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Reporting;
using LoopDoctor.Testing;

namespace LoopDoctor.Cli.Tests.Reporting;

/// <summary>
/// Every writer's exact output (report text/Markdown/JSON, check text/Markdown/JSON/JUnit, the baseline file) on reports
/// that exercise escaping, nulls, optional fields and number formatting, compared with files under golden/.
/// Set LOOPDOCTOR_UPDATE_GOLDEN=1 to rewrite them (then review the diff: a change here is a contract change).
/// </summary>
public class ReportGoldenTests
{
    private const string GoldenDirectory = "tests/LoopDoctor.Cli.Tests/Reporting/golden";

    internal static DiagnosisReport Rich() => new(
        new TargetInfo(4321, "Blocking<App>+é|\"q\"", "8.0.31"), 12.34567, AgentPresence.Injected, Verdict.Starving,
        [
            new Finding(FindingKinds.ThreadPoolStarvation, Severity.Critical, "The pool starved <badly> for 3.2 s", Advice.Starvation, 7, 0, 1234.5, [])
            {
                Evidence = ["7 threads injected because of blocking → starvation", "queue delay p99 1234.5 ms > 100 ms & rising", "a | pipe"],
            },
            new Finding(FindingKinds.BlockingWait, Severity.Critical, "Sync-over-async at MyApp.Worker.ProcessAsync", Advice.SyncOverAsync, 120, 0.1 + 0.2, 600.25,
            [
                new CallSite(["MyApp.Worker+<ProcessAsync>d__12.MoveNext", "MyApp.Cache`1[System.String].Get", "MyApp.Program.Main"], 100, 3400.5) { BlockingApi = ".Result" },
                new CallSite(["MyApp.Other.Wait(System.Int32)"], 20, 1e-7) { BlockingApi = "SemaphoreSlim.Wait" },
            ]),
            new Finding(FindingKinds.LongCallback, Severity.Warning, "Long callback", Advice.LongCallbackCpu, 3, 1e21, 123456789.125,
            [
                new CallSite(["MyApp.Cpu.Spin"], 2, 250) { Activity = "cpu" },
                new CallSite([], 1, 0) { Activity = "blocked" },
            ]),
            new Finding(FindingKinds.UnobservedTaskException, Severity.Warning, "Unobserved InvalidOperationException", Advice.UnobservedTaskException, 2, 0, 0,
                [new CallSite(["MyApp.Fire.AndForget"], 2, 0)]) { ExceptionType = "System.InvalidOperationException" },
            new Finding(FindingKinds.LockContention, Severity.Info, "Minor contention", Advice.LockContention, 1, 101, 101, [new CallSite(["MyApp.Locks.Tiny"], 1, 101)]),
        ],
        new ThreadPoolSummary(new Percentiles(0.123456, 1234.5, 2000), 64, 2, 1500, new InjectionCounts(7, 3)))
    {
        Incomplete = "the target exited after 12.3 s",
        EventsLost = 7,
    };

    internal static DiagnosisReport Minimal() => new(
        new TargetInfo(0, "trace"), 0, AgentPresence.None, Verdict.Healthy, [], new ThreadPoolSummary(null, 0, 0, 0, new InjectionCounts(0, 0)))
    {
        Source = ReportSource.File,
    };

    internal static CheckResult FailedCheck()
    {
        var report = Rich();
        var accepted = new Baseline(new Dictionary<string, IReadOnlyList<string>> { ["long-callback"] = ["MyApp.Cpu.Spin"] }, new AcceptedQueueDelay(0.5, 10));
        var rules = CheckJudge.Judge(report, (0.25, 150.04), accepted, false, new CheckThresholds(100, [FindingKinds.BlockingWait, FindingKinds.HighLag])).ToList();
        rules.Add(new RuleResult("queue-delay-p99-max", RuleStatus.Skipped, "no queue-delay figures (the agent did not report)", []));
        return new CheckResult(report, (0.25, 150.04), rules, "base|line<1>.json", false, 2);
    }

    internal static CheckResult PassedCheck()
    {
        var report = Minimal();
        var rules = CheckJudge.Judge(report, null, Baseline.Empty, true, new CheckThresholds(50, []));
        return new CheckResult(report, null, rules, null, true, 1.25);
    }

    /// <summary>Judged figures without the report's: the JSON's queueDelayMilliseconds is then null.</summary>
    internal static CheckResult JudgedWithoutReportDelay() =>
        new(Minimal(), (1, 2), CheckJudge.Judge(Minimal(), (1, 2), Baseline.Empty, true, new CheckThresholds(null, [])), "b.json", true, 0);

    public static TheoryData<string> Reports => new() { "rich", "minimal" };

    public static TheoryData<string> Checks => new() { "failed", "passed", "judged-only" };

    private static DiagnosisReport ReportNamed(string name) => name == "rich" ? Rich() : Minimal();

    private static CheckResult CheckNamed(string name) => name switch
    {
        "failed" => FailedCheck(),
        "passed" => PassedCheck(),
        _ => JudgedWithoutReportDelay(),
    };

    [Theory]
    [MemberData(nameof(Reports))]
    public void Report_outputs_are_unchanged(string name)
    {
        foreach (var (format, extension) in new[] { (ReportFormat.Text, "txt"), (ReportFormat.Markdown, "md"), (ReportFormat.Json, "json") })
        {
            var writer = new StringWriter();
            Reporters.Write(ReportNamed(name), format, writer);
            AssertGolden($"report-{name}.{extension}", writer.ToString());
        }
    }

    [Theory]
    [MemberData(nameof(Checks))]
    public void Check_outputs_are_unchanged(string name)
    {
        var result = CheckNamed(name);
        foreach (var (format, extension) in new[] { (ReportFormat.Text, "txt"), (ReportFormat.Markdown, "md"), (ReportFormat.Json, "json") })
        {
            var writer = new StringWriter();
            Reporters.Write(result, format, writer);
            AssertGolden($"check-{name}.{extension}", writer.ToString());
        }

        var path = Path.GetTempFileName();
        try
        {
            JUnitWriter.Write(result, path);
            AssertGolden($"check-{name}.junit.xml", File.ReadAllText(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Baseline_files_are_unchanged()
    {
        AssertGolden("baseline-rich.json", Baseline.FromReport(Rich(), (0.26, 15.25)).ToJson());
        AssertGolden("baseline-empty.json", Baseline.Empty.ToJson());
        var odd = new Baseline(
            new Dictionary<string, IReadOnlyList<string>> { ["z-kind"] = ["b", "a", "b"], ["a-kind"] = ["My+Type.é<Method>", "Ab", "aB"], ["empty"] = [] },
            new AcceptedQueueDelay(0, 1e-7));
        AssertGolden("baseline-odd.json", odd.ToJson());
    }

    internal static void AssertGolden(string fileName, string actual)
    {
        actual = actual.Replace("\r\n", "\n", StringComparison.Ordinal);
        var path = RepoPaths.Combine($"{GoldenDirectory}/{fileName}");
        if (Environment.GetEnvironmentVariable("LOOPDOCTOR_UPDATE_GOLDEN") == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, actual);
            return;
        }

        Assert.True(File.Exists(path), $"{path} is missing: run with LOOPDOCTOR_UPDATE_GOLDEN=1 to create it");
        Assert.Equal(File.ReadAllText(path).Replace("\r\n", "\n", StringComparison.Ordinal), actual);
    }
}
