using System.Text.Json;
using LoopDoctor.Cli.Sources;
using LoopDoctor.Cli.Signals;
using LoopDoctor.Cli.Tests.CommandLine;

namespace LoopDoctor.Cli.Tests.Integration;

/// <summary>
/// <c>monitor</c>'s default <c>--stack-sampling on-lag</c>: the sample profiler (most of an attached monitor's cost to the
/// target) runs only while the pool lags, and long callbacks are still found at their call site.
/// </summary>
[Collection(RealProcessCollection.Name)]
public class OnDemandSamplingTests
{
    private const string SamplingStarted = "the pool is in trouble";

    private static async Task<(int ExitCode, JsonElement Report, string Error)> MonitorAsync(TargetApp app, string duration, params string[] extra)
    {
        var result = await CliRunner.RunAsync(["monitor", "-p", app.ProcessId.ToString(), "--duration", duration, "--format", "json", "--no-inject", .. extra]);
        Assert.True(result.Out.Length > 0, result.Error);
        using var doc = JsonDocument.Parse(result.Out);
        return (result.ExitCode, doc.RootElement.Clone(), result.Error);
    }

    private static JsonElement Finding(JsonElement report, string kind) =>
        report.GetProperty("findings").EnumerateArray().FirstOrDefault(f => f.GetProperty("kind").GetString() == kind);

    [Fact]
    public async Task Sleeping_callbacks_start_the_sampler_and_are_found_at_their_call_site()
    {
        using var app = await TargetApp.StartAsync(TargetApp.TargetDll, "sleep", "--agent");
        // Long enough that the sampler, started a few seconds in (its own session and rundown), sees several episodes
        // on a loaded 2-core CI machine (8 s missed them once).
        var (_, report, error) = await MonitorAsync(app, "15s");
        Assert.Contains(SamplingStarted, error);
        var finding = Finding(report, "long-callback");
        Assert.True(finding.ValueKind == JsonValueKind.Object, error + report);
        Assert.Equal("LoopDoctor.TestTarget.Scenarios.SleepInCallback", finding.GetProperty("callSites")[0].GetProperty("frames")[0].GetString());
    }

    [Fact]
    public async Task A_healthy_target_is_sampled_only_for_the_first_look_at_attach()
    {
        using var app = await TargetApp.StartAsync(TargetApp.TargetDll, "healthy", "--agent");
        var (exit, report, error) = await MonitorAsync(app, "4s");
        Assert.True(exit == 0, error + report);
        Assert.Contains("at attach, for threads parked in waits that began before it", error);
        Assert.DoesNotContain(SamplingStarted, error);
    }

    [Fact]
    public async Task Pool_threads_parked_before_the_attach_are_named_by_the_first_look_without_lag()
    {
        using var app = await TargetApp.StartAsync(TargetApp.TargetDll, "parked", "--agent");
        var (_, report, error) = await MonitorAsync(app, "4s");
        Assert.DoesNotContain(SamplingStarted, error); // no lag: only the first look sampled
        var finding = Finding(report, "blocking-wait");
        Assert.True(finding.ValueKind == JsonValueKind.Object, error + report);
        Assert.Contains(finding.GetProperty("evidence").EnumerateArray(), e => e.GetString()!.StartsWith("2 of these waits had begun before LoopDoctor attached", StringComparison.Ordinal));
        Assert.Equal("LoopDoctor.TestTarget.Scenarios.CheckLicence", finding.GetProperty("callSites")[0].GetProperty("frames")[0].GetString());
    }

    [Fact]
    public async Task Stack_sampling_off_finds_no_long_callback_but_still_the_lag()
    {
        using var app = await TargetApp.StartAsync(TargetApp.TargetDll, "sleep", "--agent");
        var (_, report, error) = await MonitorAsync(app, "5s", "--stack-sampling", "off");
        Assert.DoesNotContain(SamplingStarted, error);
        Assert.Equal(JsonValueKind.Undefined, Finding(report, "long-callback").ValueKind);
        Assert.NotEqual("healthy", report.GetProperty("verdict").GetString());
    }

    [Fact]
    public void Lag_signals_are_those_the_findings_use()
    {
        // Default threshold: 500 ms, not the 100 ms warning a saturated healthy server reaches.
        using var sampler = new OnDemandSampler(0, null, _ => { }, TextWriter.Null);
        Assert.True(sampler.IsLagSignal(new PoolAdjustment(1, 1, 5, AdjustmentReason.Starvation)));
        Assert.False(sampler.IsLagSignal(new PoolAdjustment(1, 1, 5, AdjustmentReason.ClimbingMove)));
        Assert.True(sampler.IsLagSignal(new QueueDelaySpike(1, 600, 100)));
        Assert.False(sampler.IsLagSignal(new QueueDelaySpike(1, 150, 100)));
        Assert.True(sampler.IsLagSignal(new TimerLagSpike(1, 550, 100)));

        // The first interval of a histogram covers loopdoctor's own attach: never a trigger; later ones over the threshold are.
        var over = new MetricHistogram(1, "LoopDoctor", "loopdoctor.thread_pool.queue.delay", new Dictionary<double, double> { [0.99] = 0.6 }, 10);
        Assert.False(sampler.IsLagSignal(over));
        Assert.True(sampler.IsLagSignal(over));
        Assert.False(sampler.IsLagSignal(over with { Quantiles = new Dictionary<double, double> { [0.99] = 0.2 } }));
        Assert.Equal(500, OnDemandSampler.DefaultThresholdMs);

        // The in-progress delay gauge counts from its second reading over the threshold.
        var current = new MetricValue(1, "LoopDoctor", "loopdoctor.thread_pool.queue.delay.current", 0.7);
        Assert.False(sampler.IsLagSignal(current));
        Assert.True(sampler.IsLagSignal(current));
        Assert.False(sampler.IsLagSignal(new MetricValue(1, "System.Runtime", "dotnet.thread_pool.queue.length", 500)));
        Assert.False(sampler.IsLagSignal(new WaitStopped(1, 1)));
    }
}
