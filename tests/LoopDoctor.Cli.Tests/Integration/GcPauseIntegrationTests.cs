using System.Text.Json;
using System.Text.RegularExpressions;
using static LoopDoctor.Cli.Tests.Integration.StallTargets;

namespace LoopDoctor.Cli.Tests.Integration;

/// <summary>
/// gc-pause against real processes: a cache that calls GC.Collect over a ~500 MB heap, a store whose churn makes
/// blocking collections, and a service that collects gen0 often but briefly (the control). The agent is injected, so the
/// lag it measures can be set against the pauses.
/// </summary>
[Collection(RealProcessCollection.Name)]
public class GcPauseIntegrationTests
{
    [Fact]
    public async Task Induced_collections_name_the_GC_Collect_call_site_and_explain_the_lag()
    {
        using var target = await StartAsync("gc-induced");
        var (exit, report, error) = await DiagnoseAsync(target, "8s");
        Assert.Equal((int)ExitCode.FindingsPresent, exit);
        var gc = Finding(report, "gc-pause") ?? throw new Xunit.Sdk.XunitException($"no gc-pause in [{string.Join(", ", Kinds(report))}]: {error}");
        Assert.NotEqual("info", gc.GetProperty("severity").GetString());
        Assert.True(gc.GetProperty("count").GetInt32() >= 2, gc.ToString());
        Assert.True(gc.GetProperty("maxMilliseconds").GetDouble() >= 100, gc.ToString());
        Assert.Contains("induced by GC.Collect", gc.GetProperty("title").GetString());
        var site = gc.GetProperty("callSites")[0];
        Assert.StartsWith("StallTarget.ReportCache.", site.GetProperty("frames")[0].GetString());
        Assert.Equal("GC.Collect", site.GetProperty("blockingApi").GetString());
        // The lag is the GC's: no starvation, and no long callback blamed for the time the GC suspended it.
        Assert.Null(Finding(report, "thread-pool-starvation"));
        Assert.DoesNotContain(report.GetProperty("findings").EnumerateArray(),
            f => f.GetProperty("kind").GetString() == "long-callback" && f.GetProperty("severity").GetString() != "info");
        if (Finding(report, "high-lag") is { } lag)
        {
            Assert.True(lag.GetProperty("explainedBy").EnumerateArray().Any(e => e.GetString() == "gc-pause"), $"{lag}\n{gc}\n{error}");
            Assert.Contains(lag.GetProperty("evidence").EnumerateArray(), e => e.GetString()!.Contains("fell inside GC pauses"));
        }

        Assert.Contains("GC.Collect", report.GetProperty("summary").GetString());
    }

    [Fact]
    public async Task Analyze_finds_induced_pauses_in_a_recorded_trace()
    {
        using var target = await StartAsync("gc-induced");
        var path = Path.Combine(Path.GetTempPath(), $"loopdoctor-gc-{Guid.NewGuid():N}.nettrace");
        try
        {
            await TraceRecorder.RecordAsync(target.Pid, path, TimeSpan.FromSeconds(5));
            var result = await CommandLine.CliRunner.RunAsync("analyze", path, "--format", "json");
            using var document = JsonDocument.Parse(result.Out);
            var gc = Finding(document.RootElement, "gc-pause") ?? throw new Xunit.Sdk.XunitException($"no gc-pause: {result.Out} {result.Error}");
            Assert.StartsWith("StallTarget.ReportCache.", gc.GetProperty("callSites")[0].GetProperty("frames")[0].GetString());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Allocation_driven_pauses_name_the_allocating_call_site()
    {
        using var target = await StartAsync("gc-allocation");
        var (_, report, error) = await DiagnoseAsync(target, "8s");
        var gc = Finding(report, "gc-pause") ?? throw new Xunit.Sdk.XunitException($"no gc-pause in [{string.Join(", ", Kinds(report))}]: {error}");
        Assert.DoesNotContain("induced", gc.GetProperty("title").GetString());
        Assert.Equal("StallTarget.UserSession.Create", gc.GetProperty("callSites")[0].GetProperty("frames")[0].GetString());
        Assert.Contains(gc.GetProperty("evidence").EnumerateArray(), e => e.GetString()!.StartsWith("StallTarget.UserSession.Create allocated about", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Frequent_brief_gen0_collections_raise_no_gc_pause()
    {
        using var target = await StartAsync("gc-healthy");
        var before = await Gen0CollectionsAsync(target);
        var (exit, report, error) = await DiagnoseAsync(target, "5s");
        var after = await Gen0CollectionsAsync(target);
        Assert.True(after - before >= 20, $"the control collected gen0 only {after - before} times");
        Assert.Null(Finding(report, "gc-pause"));
        Assert.True(exit == 0, $"[{string.Join(", ", Kinds(report))}] {error}");
    }

    private static async Task<int> Gen0CollectionsAsync(LoopDoctor.Testing.TestProcess target)
    {
        // The target prints its counts once a second; the latest line is current to within a second.
        var pattern = new Regex(@"^collections gen0=(\d+)");
        await target.WaitForLineAsync(pattern, TimeSpan.FromSeconds(10));
        return int.Parse(pattern.Match(target.StdoutLines.Last(l => pattern.IsMatch(l))).Groups[1].Value);
    }
}
