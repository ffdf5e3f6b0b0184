using System.Text.Json;
using System.Xml.Linq;
using LoopDoctor.Cli.Tests.Integration;
using LoopDoctor.Cli.Tests.Run;
using LoopDoctor.Testing;

namespace LoopDoctor.Cli.Tests.Check;

/// <summary>
/// <c>loopdoctor check</c> for real against samples/BlockingApp (6 s runs, 1 s warm-up): pass, regression, baseline round
/// trip, the fixed twins against a healthy baseline, and every exit code.
/// </summary>
[Collection(RealProcessCollection.Name)]
public sealed class CheckCommandTests : IDisposable
{
    private const string FetchReportBlocking = "BlockingApp.Scenarios.SyncOverAsyncScenario.FetchReportBlocking";
    private readonly string _dir = Directory.CreateTempSubdirectory("loopdoctor-check-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    internal static string[] Check(string baseline, params string[] rest) =>
        ["check", "--baseline", baseline, "--duration", "6s", "--warmup", "1s", .. rest];

    internal static string[] BlockingApp(string scenario, int rps, bool isFixed = false) =>
        ["--", "dotnet", RepoPaths.BlockingAppDll, "--scenario", scenario, "--rps", rps.ToString(System.Globalization.CultureInfo.InvariantCulture), .. isFixed ? new[] { "--fixed" } : []];

    [Fact]
    public async Task Healthy_passes_without_a_baseline_and_writes_JUnit_and_the_step_summary()
    {
        var summary = PathOf("summary.md");
        File.WriteAllText(summary, "earlier step\n");
        var junit = PathOf("junit.xml");
        var (exit, output, error) = await LoopDoctorExe.RunAsync(
            [.. Check(PathOf("missing.json"), "--junit", junit, "--max-queue-delay-p99", "500ms"), .. BlockingApp("healthy", 30)],
            new Dictionary<string, string?> { ["GITHUB_STEP_SUMMARY"] = summary });

        Assert.True(exit == 0, output + error);
        Assert.StartsWith("loopdoctor check: PASSED", output);
        Assert.Contains("[pass] new-culprits", output);
        Assert.Contains("ready url=", error); // the app's stdout goes to stderr: check's stdout is the verdict only
        var cases = XDocument.Load(junit).Descendants("testcase").ToList();
        Assert.Equal(["new-culprits", "queue-delay-p99-max"], cases.Select(c => (string?)c.Attribute("name")));
        Assert.DoesNotContain(cases, c => c.Element("failure") is not null);
        var markdown = File.ReadAllText(summary);
        Assert.StartsWith("earlier step\n", markdown); // appended, not overwritten
        Assert.Contains("LoopDoctor check: ✅ passed", markdown);
    }

    [Fact]
    public async Task Sync_over_async_fails_with_blocking_wait_at_FetchReportBlocking()
    {
        var junit = PathOf("junit.xml");
        var sarif = PathOf("check.sarif");
        var (exit, output, error) = await LoopDoctorExe.RunAsync(
            [.. Check(PathOf("missing.json"), "--format", "json", "--junit", junit, "--sarif", sarif, "--fail-on", "blocking-wait"), .. BlockingApp("sync-over-async", 50)]);

        Assert.True(exit == (int)ExitCode.RegressionFound, output + error);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        Assert.False(root.GetProperty("passed").GetBoolean());
        var rules = root.GetProperty("rules").EnumerateArray().ToDictionary(r => r.GetProperty("name").GetString()!, r => r);
        Assert.Equal("failed", rules["new-culprits"].GetProperty("status").GetString());
        Assert.Contains(rules["new-culprits"].GetProperty("failures").EnumerateArray(),
            f => f.GetProperty("kind").GetString() == "blocking-wait" && f.GetProperty("callSite").GetString() == FetchReportBlocking);
        Assert.Equal("failed", rules["fail-on:blocking-wait"].GetProperty("status").GetString());
        var failure = XDocument.Load(junit).Descendants("testcase").Single(c => (string?)c.Attribute("name") == "fail-on:blocking-wait").Element("failure");
        Assert.NotNull(failure);
        Assert.Contains(FetchReportBlocking, failure.Value);
        Assert.Contains("fix: ", failure.Value);
        var sarifText = File.ReadAllText(sarif);
        Reporting.SarifSchema.AssertValid(sarifText);
        using var sarifDoc = JsonDocument.Parse(sarifText);
        var wait = sarifDoc.RootElement.GetProperty("runs")[0].GetProperty("results").EnumerateArray().Single(r =>
            r.GetProperty("ruleId").GetString() == "blocking-wait" &&
            r.GetProperty("locations")[0].GetProperty("logicalLocations")[0].GetProperty("fullyQualifiedName").GetString() == FetchReportBlocking);
        // BlockingApp.pdb beside BlockingApp.dll maps the culprit to its source file.
        Assert.EndsWith("samples/BlockingApp/Scenarios/SyncOverAsyncScenario.cs",
            wait.GetProperty("locations")[0].GetProperty("physicalLocation").GetProperty("artifactLocation").GetProperty("uri").GetString());
    }

    [Fact]
    public async Task A_lock_baseline_passes_for_lock_and_fails_when_sleep_is_added()
    {
        var baseline = PathOf("loopdoctor-baseline.json");
        var (updated, output, error) = await LoopDoctorExe.RunAsync([.. Check(baseline, "--update-baseline"), .. BlockingApp("lock", 30)]);
        Assert.True(updated == 0, output + error);
        var written = File.ReadAllText(baseline);
        Assert.Contains("\"lock-contention\": [", written);
        Assert.Contains("BlockingApp.Scenarios.LockScenario.RecalculateTotalsUnderLock", written);
        Assert.EndsWith("}\n", written);

        var (again, output2, error2) = await LoopDoctorExe.RunAsync([.. Check(baseline), .. BlockingApp("lock", 30)]);
        Assert.True(again == 0, output2 + error2);

        // /lock as accepted, plus a second process driving /sleep at the same app.
        using var check = LoopDoctorExe.Start([.. Check(baseline), .. BlockingApp("lock", 30)]);
        var url = (await check.WaitForLineAsync(@"^ready url=(\S+)", LoopDoctorExe.Timeout, OutputStream.Stderr)).Groups[1].Value;
        using var load = TestProcess.StartDotnet(RepoPaths.BlockingAppDll, ["load", "--url", url, "--scenario", "sleep", "--rps", "30", "--duration", "10s", "--drain", "1s"]);
        var exit = await check.WaitForExitAsync(LoopDoctorExe.Timeout);
        var verdict = string.Join('\n', check.StdoutLines);
        Assert.True(exit == (int)ExitCode.RegressionFound, verdict + check.DescribeOutput());
        Assert.Contains("[FAIL]", verdict);
    }

    public static TheoryData<string> FixedTwins => new() { "sync-over-async", "sleep", "lock" };

    [Theory]
    [MemberData(nameof(FixedTwins))]
    public async Task Each_fixed_twin_passes_against_a_baseline_taken_from_healthy(string scenario)
    {
        var baseline = PathOf("healthy-baseline.json");
        var (updated, output, error) = await LoopDoctorExe.RunAsync([.. Check(baseline, "--update-baseline"), .. BlockingApp("healthy", 30)]);
        Assert.True(updated == 0, output + error);
        Assert.Contains("\"callSites\": {}", File.ReadAllText(baseline));

        var (exit, output2, error2) = await LoopDoctorExe.RunAsync([.. Check(baseline), .. BlockingApp(scenario, 30, isFixed: true)]);
        Assert.True(exit == 0, output2 + error2);
    }

    [Fact]
    public async Task A_program_that_is_not_dotnet_exits_9()
    {
        var (exit, output, error) = await LoopDoctorExe.RunAsync([.. Check(PathOf("b.json")), "--", "/bin/true"]);
        Assert.Equal((int)ExitCode.NotDotNet, exit);
        Assert.Empty(output);
        Assert.Contains("not a .NET program", error);
    }

    [Fact]
    public async Task A_target_that_exits_before_the_check_ends_exits_6()
    {
        var (exit, _, error) = await LoopDoctorExe.RunAsync([.. Check(PathOf("b.json")), "--", "dotnet", LoopDoctorExe.RunTargetDll, "exit", "0"]);
        Assert.Equal((int)ExitCode.TargetExited, exit);
        Assert.Contains("exited with code 0", error);
        Assert.Contains("the check could not run", error);
    }

    [Fact]
    public async Task A_command_that_cannot_start_exits_10()
    {
        var (exit, _, error) = await LoopDoctorExe.RunAsync([.. Check(PathOf("b.json")), "--", "/nonexistent/no-such-app"]);
        Assert.Equal((int)ExitCode.LaunchFailed, exit);
        Assert.Contains("Cannot start", error);
    }

    [Fact]
    public async Task A_running_process_is_checked_by_pid_with_the_agent_injected()
    {
        using var app = await TargetApp.StartAsync("sync-over-async");
        var (exit, output, error) = await LoopDoctorExe.RunAsync(
            ["check", "-p", app.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), "--baseline", PathOf("missing.json"), "--duration", "5s", "--warmup", "1s", "--format", "json"]);

        Assert.True(exit == (int)ExitCode.RegressionFound, output + error);
        using var doc = JsonDocument.Parse(output);
        Assert.Contains(doc.RootElement.GetProperty("culprits").EnumerateArray(),
            c => c.GetProperty("kind").GetString() == "blocking-wait" && c.GetProperty("callSite").GetString() == "LoopDoctor.TestTarget.Scenarios.SyncOverAsync");
    }

    [Fact]
    public async Task A_missing_process_exits_3()
    {
        var (exit, _, error) = await LoopDoctorExe.RunAsync(["check", "-p", "2147483000", "--duration", "2s", "--warmup", "1s"]);
        Assert.Equal((int)ExitCode.TargetNotFound, exit);
        Assert.Contains("No process with id", error);
    }

    [Theory]
    [InlineData("check")]
    [InlineData("check --duration 2s --warmup 3s -- dotnet x.dll")]
    [InlineData("check -p 1 -- dotnet x.dll")]
    [InlineData("check --fail-on blocking,slow -- dotnet x.dll")]
    public async Task Bad_command_lines_exit_2(string commandLine)
    {
        var (exit, _, error) = await LoopDoctorExe.RunAsync(commandLine.Split(' '));
        Assert.Equal((int)ExitCode.UsageError, exit);
        Assert.StartsWith("loopdoctor: ", error);
    }

    [Fact]
    public async Task A_corrupt_baseline_exits_2_before_starting_anything()
    {
        var baseline = PathOf("corrupt.json");
        File.WriteAllText(baseline, "{ not json");
        var (exit, _, error) = await LoopDoctorExe.RunAsync([.. Check(baseline), "--", "/nonexistent/no-such-app"]);
        Assert.Equal((int)ExitCode.UsageError, exit);
        Assert.Contains("Cannot read the baseline", error);
    }
}
