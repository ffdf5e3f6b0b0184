using LoopDoctor.Cli.Baselines;
using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Projections;
using LoopDoctor.Cli.Rules;

namespace LoopDoctor.Cli.Tests.Check;

/// <summary>Pure logic of check: call-site keys, the baseline file, the rules.</summary>
public class BaselineTests
{
    [Theory]
    [InlineData("BlockingApp.Scenarios.SyncOverAsyncScenario.FetchReportBlocking", "BlockingApp.Scenarios.SyncOverAsyncScenario.FetchReportBlocking")]
    [InlineData("MyApp.Orders.OrderService.Load(System.Int32, System.String)", "MyApp.Orders.OrderService.Load")]
    [InlineData("MyApp.Orders.OrderService.Load+0x1f", "MyApp.Orders.OrderService.Load")]
    [InlineData("MyApp.Cache`1[System.String].Get", "MyApp.Cache.Get")]
    [InlineData("MyApp.Repository`2.Find", "MyApp.Repository.Find")]
    [InlineData("MyApp.Worker+<ProcessAsync>d__12.MoveNext", "MyApp.Worker.ProcessAsync")]
    [InlineData("MyApp.Worker.<ProcessAsync>d__7.MoveNext()", "MyApp.Worker.ProcessAsync")]
    [InlineData("MyApp.Worker+<>c__DisplayClass5_0.<Start>b__0", "MyApp.Worker.Start")]
    [InlineData("MyApp.Worker+<>c.<Run>b__3_1", "MyApp.Worker.Run")]
    public void Call_site_keys_drop_what_changes_between_builds(string frame, string key) =>
        Assert.Equal(key, CallSiteKey.Normalize(frame));

    private static Finding F(string kind, Severity severity, params (string Frame, double Ms)[] sites) =>
        new(kind, severity, $"{kind} title", $"{kind} advice", sites.Length, sites.Sum(s => s.Ms), sites.Select(s => s.Ms).DefaultIfEmpty().Max(),
            sites.Select(s => new CallSite([s.Frame], 1, s.Ms)).ToList());

    private static DiagnosisReport Report(params Finding[] findings) =>
        new(new TargetInfo(1, "app"), 10, AgentPresence.Injected, Verdict.Healthy, findings, new ThreadPoolSummary(new Percentiles(1, 10, 10), 4, 2, 0, new InjectionCounts(0, 0)));

    [Fact]
    public void Baseline_json_is_sorted_stable_and_round_trips()
    {
        var report = Report(
            F("lock-contention", Severity.Warning, ("Z.Type.Method", 500)),
            F("blocking-wait", Severity.Critical, ("B.Type.Second", 300), ("A.Type.First(System.Int32)", 400), ("C.Type.Tiny", 10)),
            F("long-callback", Severity.Warning, ("Below.Minimum.Method", 99)),
            F("long-callback", Severity.Info, ("Ignored.Info.Method", 900)),
            F("thread-pool-starvation", Severity.Critical));
        var baseline = Baseline.FromReport(report, (0.12, 15.26));

        var json = baseline.ToJson();
        Assert.Equal("""
            {
              "callSites": {
                "blocking-wait": [
                  "A.Type.First",
                  "B.Type.Second"
                ],
                "lock-contention": [
                  "Z.Type.Method"
                ]
              },
              "formatVersion": 1,
              "queueDelayMilliseconds": {
                "p50": 0.1,
                "p99": 15.3
              }
            }

            """.Replace("\r\n", "\n", StringComparison.Ordinal), json);

        var path = Path.GetTempFileName();
        try
        {
            baseline.Save(path);
            Assert.Equal(json, Baseline.Load(path).ToJson());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_new_call_site_fails_an_accepted_one_passes_and_info_is_ignored()
    {
        var accepted = Baseline.FromReport(Report(F("blocking-wait", Severity.Warning, ("App.A.Old", 200))), null);
        var thresholds = new CheckThresholds(null, []);

        var same = CheckJudge.Judge(Report(F("blocking-wait", Severity.Critical, ("App.A.Old(System.Int32)+0x10", 900))), null, accepted, true, thresholds);
        Assert.All(same, r => Assert.Equal(RuleStatus.Passed, r.Status));

        var infoOnly = CheckJudge.Judge(Report(F("blocking-wait", Severity.Info, ("App.B.New", 20))), null, accepted, true, thresholds);
        Assert.All(infoOnly, r => Assert.Equal(RuleStatus.Passed, r.Status));

        var fresh = CheckJudge.Judge(Report(F("blocking-wait", Severity.Warning, ("App.B.New", 200))), null, accepted, true, thresholds);
        var rule = Assert.Single(fresh);
        Assert.Equal(RuleStatus.Failed, rule.Status);
        var failure = Assert.Single(rule.Failures);
        Assert.Equal(("blocking-wait", "App.B.New", "blocking-wait advice"), (failure.Kind, failure.CallSite, failure.Advice));
    }

    [Fact]
    public void Fail_on_fails_even_when_the_baseline_accepts_the_call_site_and_covers_symptoms()
    {
        var report = Report(F("blocking-wait", Severity.Warning, ("App.A.Old", 200)), F("thread-pool-starvation", Severity.Warning));
        var accepted = Baseline.FromReport(report, null);
        var rules = CheckJudge.Judge(report, null, accepted, true, new CheckThresholds(null, ["blocking-wait", "thread-pool-starvation", "lock-contention"]));

        Assert.Equal(["new-culprits", "fail-on:blocking-wait", "fail-on:thread-pool-starvation", "fail-on:lock-contention"], rules.Select(r => r.Name));
        Assert.Equal([RuleStatus.Passed, RuleStatus.Failed, RuleStatus.Failed, RuleStatus.Passed], rules.Select(r => r.Status));
    }

    [Fact]
    public void Fail_on_deadlock_and_gc_pause_fails_on_those_findings_even_when_accepted()
    {
        var report = Report(F("deadlock", Severity.Critical, ("App.Transfers.Move", 9000)), F("gc-pause", Severity.Warning, ("App.Cache.Refresh", 300)));
        var accepted = Baseline.FromReport(report, null);
        var rules = CheckJudge.Judge(report, null, accepted, true, new CheckThresholds(null, ["deadlock", "gc-pause", "hung-wait"]));

        Assert.Equal(["new-culprits", "fail-on:deadlock", "fail-on:gc-pause", "fail-on:hung-wait"], rules.Select(r => r.Name));
        Assert.Equal([RuleStatus.Passed, RuleStatus.Failed, RuleStatus.Failed, RuleStatus.Passed], rules.Select(r => r.Status));
    }

    [Theory]
    [InlineData(5, 55, 55.0, true)]   // small baseline: +50 ms floor
    [InlineData(5, 55.1, 55.0, false)]
    [InlineData(100, 200, 200.0, true)] // large baseline: 2x
    [InlineData(100, 201, 200.0, false)]
    public void Queue_delay_tolerance_is_the_larger_of_twice_and_plus_50_ms(double baselineP99, double currentP99, double allowed, bool passes)
    {
        Assert.Equal(allowed, QueueDelayP99BaselineRule.AllowedP99(baselineP99));
        var baseline = new Baseline(new Dictionary<string, IReadOnlyList<string>>(), new AcceptedQueueDelay(1, baselineP99));
        var rule = CheckJudge.Judge(Report(), (1, currentP99), baseline, true, new CheckThresholds(null, [])).Single(r => r.Name == "queue-delay-p99-baseline");
        Assert.Equal(passes ? RuleStatus.Passed : RuleStatus.Failed, rule.Status);
    }

    [Fact]
    public void Threshold_rule_is_skipped_without_agent_figures_and_judges_them_otherwise()
    {
        var thresholds = new CheckThresholds(50, []);
        Assert.Equal(RuleStatus.Skipped, CheckJudge.Judge(Report(), null, Baseline.Empty, false, thresholds).Single(r => r.Name == "queue-delay-p99-max").Status);
        Assert.Equal(RuleStatus.Passed, CheckJudge.Judge(Report(), (1, 50), Baseline.Empty, false, thresholds).Single(r => r.Name == "queue-delay-p99-max").Status);
        Assert.Equal(RuleStatus.Failed, CheckJudge.Judge(Report(), (1, 51), Baseline.Empty, false, thresholds).Single(r => r.Name == "queue-delay-p99-max").Status);
    }

    [Fact]
    public void Judged_p99_is_the_count_weighted_median_of_interval_p99s() =>
        Assert.Equal(10, WeightedMedian.Of([(500, 1), (10, 50), (8, 20), (12, 30)]));
}
