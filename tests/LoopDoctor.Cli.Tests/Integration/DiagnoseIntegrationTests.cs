using System.Diagnostics;
using System.Text.Json;
using LoopDoctor.Cli.Sources;
using LoopDoctor.Cli.Tests.CommandLine;

namespace LoopDoctor.Cli.Tests.Integration;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RealProcessCollection
{
    // Real processes under load on a 2-core machine: one at a time keeps timings meaningful.
    public const string Name = "Real processes";
}

/// <summary>Attaches for real (EventPipe) to real target processes running each anti-pattern under load.</summary>
[Collection(RealProcessCollection.Name)]
public class DiagnoseIntegrationTests
{
    private static async Task<(int ExitCode, JsonElement Report, string Error)> DiagnoseAsync(TargetApp app, string duration = "5s")
    {
        var result = await CliRunner.RunAsync("diagnose", "-p", app.ProcessId.ToString(), "--duration", duration, "--format", "json", "--no-inject");
        Assert.True(result.Out.Length > 0, result.Error);
        using var doc = JsonDocument.Parse(result.Out);
        return (result.ExitCode, doc.RootElement.Clone(), result.Error);
    }

    private static JsonElement Finding(JsonElement report, string kind) =>
        report.GetProperty("findings").EnumerateArray().FirstOrDefault(f => f.GetProperty("kind").GetString() == kind);

    private static string TopFrame(JsonElement finding) => finding.GetProperty("callSites")[0].GetProperty("frames")[0].GetString()!;

    [Fact]
    public async Task Sync_over_async_yields_blocking_wait_at_the_culprit_and_starvation_evidence()
    {
        using var app = await TargetApp.StartAsync("sync-over-async");
        var (exit, report, error) = await DiagnoseAsync(app);
        Assert.Equal((int)ExitCode.FindingsPresent, exit);
        var wait = Finding(report, "blocking-wait");
        Assert.True(wait.ValueKind == JsonValueKind.Object, error);
        Assert.Equal("LoopDoctor.TestTarget.Scenarios.SyncOverAsync", TopFrame(wait));
        Assert.Contains("Sync-over-async", wait.GetProperty("title").GetString());
        Assert.NotEqual("info", wait.GetProperty("severity").GetString());
        var injections = report.GetProperty("threadPool").GetProperty("injections");
        Assert.True(injections.GetProperty("cooperativeBlocking").GetInt32() + injections.GetProperty("starvation").GetInt32() > 0);
        Assert.Equal(JsonValueKind.Object, Finding(report, "thread-pool-starvation").ValueKind);
        Assert.NotEqual("healthy", report.GetProperty("verdict").GetString());
        Assert.Equal("none", report.GetProperty("agent").GetString());
    }

    [Fact]
    public async Task Lock_yields_lock_contention_at_the_culprit()
    {
        using var app = await TargetApp.StartAsync("lock");
        var (_, report, error) = await DiagnoseAsync(app);
        var finding = Finding(report, "lock-contention");
        Assert.True(finding.ValueKind == JsonValueKind.Object, error);
        Assert.Equal("LoopDoctor.TestTarget.Scenarios.LockContention", TopFrame(finding));
        Assert.NotEqual("info", finding.GetProperty("severity").GetString());
    }

    [Theory]
    [InlineData("sleep", "LoopDoctor.TestTarget.Scenarios.SleepInCallback", "blocked")]
    [InlineData("cpu", "LoopDoctor.TestTarget.Scenarios.CpuInCallback", "cpu")]
    public async Task Sleep_and_cpu_yield_long_callbacks_classified(string scenario, string culprit, string activity)
    {
        using var app = await TargetApp.StartAsync(scenario);
        var (_, report, error) = await DiagnoseAsync(app);
        var finding = Finding(report, "long-callback");
        Assert.True(finding.ValueKind == JsonValueKind.Object, error);
        Assert.Equal(culprit, TopFrame(finding));
        Assert.True(activity == finding.GetProperty("callSites")[0].GetProperty("activity").GetString(), finding.ToString());
        Assert.True(finding.GetProperty("maxMilliseconds").GetDouble() >= 100);
    }

    [Fact]
    public async Task Healthy_yields_no_warning_or_critical_finding()
    {
        using var app = await TargetApp.StartAsync("healthy");
        var (exit, report, error) = await DiagnoseAsync(app);
        Assert.True(exit == 0, error + report);
        Assert.Equal("healthy", report.GetProperty("verdict").GetString());
        Assert.DoesNotContain(report.GetProperty("findings").EnumerateArray(), f => f.GetProperty("severity").GetString() != "info");
    }

    [Fact]
    public async Task An_embedded_agent_is_detected_and_its_queue_delay_yields_high_lag()
    {
        using var app = await TargetApp.StartAsync(TargetApp.TargetDll, "sleep", "--agent");
        var (_, report, error) = await DiagnoseAsync(app);
        Assert.Equal("embedded", report.GetProperty("agent").GetString());
        Assert.DoesNotContain("injected the LoopDoctor agent", error);
        var delay = report.GetProperty("threadPool").GetProperty("queueDelayMilliseconds");
        Assert.True(delay.ValueKind == JsonValueKind.Object, report.ToString());
        Assert.True(delay.GetProperty("p99").GetDouble() >= 100, report.ToString());
        Assert.Equal(JsonValueKind.Object, Finding(report, "high-lag").ValueKind);
    }

    [Fact]
    public async Task A_target_with_the_agent_embedded_is_not_injected_again()
    {
        // Injection allowed (no --no-inject): the running agent is detected and nothing is injected.
        using var app = await TargetApp.StartAsync(TargetApp.TargetDll, "healthy", "--agent");
        var result = await CliRunner.RunAsync("diagnose", "-p", app.ProcessId.ToString(), "--duration", "3s", "--format", "json");
        using var doc = JsonDocument.Parse(result.Out);
        Assert.Equal("embedded", doc.RootElement.GetProperty("agent").GetString());
        Assert.DoesNotContain("inject", result.Error);
    }

    [Fact]
    public async Task Ps_lists_a_running_target_with_its_name()
    {
        using var app = await TargetApp.StartAsync("healthy");
        var result = await CliRunner.RunAsync("ps");
        Assert.Equal(0, result.ExitCode);
        Assert.Matches($@"(?m)^\s*{app.ProcessId}\s+LoopDoctor\.TestTarget\s+no\s+dotnet .*LoopDoctor\.TestTarget\.dll healthy", result.Out);
    }

    [Fact]
    public async Task Fire_and_forget_yields_unobserved_task_exception_through_the_injected_agent()
    {
        Assert.NotNull(LoopDoctor.Cli.Targets.AgentDetection.FindStartupHook(out var problem));
        Assert.Null(problem);

        using var app = await TargetApp.StartAsync("fire-and-forget");
        var result = await CliRunner.RunAsync("diagnose", "-p", app.ProcessId.ToString(), "--duration", "6s", "--format", "json");
        using var doc = JsonDocument.Parse(result.Out);
        Assert.Equal("injected", doc.RootElement.GetProperty("agent").GetString());
        var finding = Finding(doc.RootElement, "unobserved-task-exception");
        Assert.True(finding.ValueKind == JsonValueKind.Object, result.Out + result.Error);
        Assert.Equal("System.InvalidOperationException", finding.GetProperty("exceptionType").GetString());

        // Never inject twice: a second run finds the agent already there.
        var again = await CliRunner.RunAsync("diagnose", "-p", app.ProcessId.ToString(), "--duration", "1s", "--format", "json");
        Assert.DoesNotContain("injected the LoopDoctor agent", again.Error);
    }

    [Fact]
    public async Task Analyze_on_a_recorded_trace_gives_the_same_findings()
    {
        using var app = await TargetApp.StartAsync("sync-over-async");
        var path = Path.Combine(Path.GetTempPath(), $"loopdoctor-test-{Guid.NewGuid():N}.nettrace");
        try
        {
            await TraceRecorder.RecordAsync(app.ProcessId, path, TimeSpan.FromSeconds(4));

            app.Kill();
            var markdown = path + ".md";
            var md = await CliRunner.RunAsync("analyze", path, "--format", "markdown", "--output", markdown);
            Assert.Equal((int)ExitCode.FindingsPresent, md.ExitCode);
            Assert.Equal("", md.Out);
            Assert.Contains("`blocking-wait`", await File.ReadAllTextAsync(markdown));
            File.Delete(markdown);
            var html = path + ".html";
            var page = await CliRunner.RunAsync("analyze", path, "--format", "html", "--output", html);
            Assert.Equal((int)ExitCode.FindingsPresent, page.ExitCode);
            Assert.Contains("LoopDoctor.TestTarget.Scenarios.SyncOverAsync", await File.ReadAllTextAsync(html));
            File.Delete(html);

            var result = await CliRunner.RunAsync("analyze", path, "--format", "json");
            Assert.Equal((int)ExitCode.FindingsPresent, result.ExitCode);
            using var doc = JsonDocument.Parse(result.Out);
            var wait = Finding(doc.RootElement, "blocking-wait");
            Assert.True(wait.ValueKind == JsonValueKind.Object, result.Out);
            Assert.Equal("LoopDoctor.TestTarget.Scenarios.SyncOverAsync", TopFrame(wait));
            Assert.Equal(JsonValueKind.Object, Finding(doc.RootElement, "thread-pool-starvation").ValueKind);
            Assert.Equal("file", doc.RootElement.GetProperty("source").GetString());
            // The trace's timeline, second by second: the waits are in it.
            var timeline = doc.RootElement.GetProperty("timeline");
            Assert.True(timeline.GetProperty("blockingWaits").EnumerateArray().Count(w => w.GetInt32() > 0) >= 2, timeline.ToString());
            Assert.Equal(app.ProcessId, doc.RootElement.GetProperty("target").GetProperty("processId").GetInt32());
            Assert.Equal("LoopDoctor.TestTarget", doc.RootElement.GetProperty("target").GetProperty("processName").GetString());
            // The rundown's RuntimeInformation names the runtime: the test target runs on the test host's.
            Assert.Equal($"{Environment.Version.Major}.{Environment.Version.Minor}.{Environment.Version.Build}", doc.RootElement.GetProperty("target").GetProperty("runtimeVersion").GetString());

            // The single pass (stacks named after the rundown at the end) and TraceLog's .etlx conversion agree.
            var onePass = new LoopDoctor.Cli.Runs.DiagnosisPipeline();
            var viaTraceLog = new LoopDoctor.Cli.Runs.DiagnosisPipeline();
            var a = TraceFileSource.ReplayInOnePass(path, onePass.Observe);
            var b = TraceFileSource.ReplayThroughTraceLog(path, viaTraceLog.Observe);
            Assert.Equal(b.ProcessId, a.ProcessId);
            Assert.Equal(viaTraceLog.SignalCount, onePass.SignalCount);
            string Summary(LoopDoctor.Cli.Runs.DiagnosisPipeline p) => string.Join("\n", p.BuildReport(new(0, "x"), 1, LoopDoctor.Cli.Findings.AgentPresence.None)
                .Findings.Select(f => $"{f.Kind} {f.Count} {string.Join(" <- ", f.CallSites.FirstOrDefault()?.Frames ?? [])}"));
            Assert.Equal(Summary(viaTraceLog), Summary(onePass));

            // A trace cut off mid-file (the recorder killed, the disk full) still reports what it holds, and says so.
            var cut = path + ".cut.nettrace";
            var bytes = await File.ReadAllBytesAsync(path);
            await File.WriteAllBytesAsync(cut, bytes[..(bytes.Length * 2 / 3)]);
            try
            {
                var partial = await CliRunner.RunAsync("analyze", cut, "--format", "json");
                Assert.True(partial.ExitCode == (int)ExitCode.TargetExited, partial.Error);
                Assert.Contains("ends early", partial.Error);
                Assert.Single(partial.Error.Trim().Split('\n'));
                using var partialDoc = JsonDocument.Parse(partial.Out);
                Assert.Contains("ends early", partialDoc.RootElement.GetProperty("incomplete").GetString());
            }
            finally
            {
                File.Delete(cut);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }
}

/// <summary>Each live error case: one line, the documented exit code, no stack trace.</summary>
[Collection(RealProcessCollection.Name)]
public class LiveErrorCaseTests
{
    [Fact]
    public async Task A_process_that_is_not_dotnet_is_unable_to_connect()
    {
        using var sleeper = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
        try
        {
            var result = await CliRunner.RunAsync("diagnose", "-p", sleeper.Id.ToString(), "--duration", "1s");
            Assert.Equal((int)ExitCode.TargetNotFound, result.ExitCode);
            Assert.StartsWith($"loopdoctor: Unable to connect to process {sleeper.Id}", result.Error);
            Assert.Single(result.Error.Trim().Split('\n'));
        }
        finally
        {
            sleeper.Kill();
        }
    }

    [Fact]
    public async Task A_target_that_exits_mid_session_gets_a_partial_report()
    {
        using var app = await TargetApp.StartAsync("sync-over-async");
        var output = new StringWriter();
        var error = new StringWriter();
        var console = new LoopDoctor.Cli.CommandLine.CliConsole(TextWriter.Synchronized(output), TextWriter.Synchronized(error), false);
        var run = LoopDoctor.Cli.Commands.LoopDoctorCommandLine.InvokeAsync(["diagnose", "-p", app.ProcessId.ToString(), "--duration", "30s", "--format", "json", "--no-inject"], console, CancellationToken.None);
        await WaitForAsync(() => error.ToString().Contains("attached to"), TimeSpan.FromSeconds(20));
        await Task.Delay(TimeSpan.FromSeconds(2)); // let the session see some work: the partial report's content
        app.Kill();
        var exit = await run.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal((int)ExitCode.TargetExited, exit);
        using var doc = JsonDocument.Parse(output.ToString());
        Assert.Contains("exited", doc.RootElement.GetProperty("incomplete").GetString());
        Assert.Contains($"process {app.ProcessId} exited", error.ToString());
        Assert.True(doc.RootElement.GetProperty("durationSeconds").GetDouble() < 25);
    }

    [Fact]
    public async Task Ctrl_c_stops_the_session_and_prints_the_report()
    {
        using var app = await TargetApp.StartAsync("sync-over-async");
        using var cts = new CancellationTokenSource();
        var output = new StringWriter();
        var error = new StringWriter();
        var console = new LoopDoctor.Cli.CommandLine.CliConsole(TextWriter.Synchronized(output), TextWriter.Synchronized(error), false);
        var run = LoopDoctor.Cli.Commands.LoopDoctorCommandLine.InvokeAsync(["monitor", "-p", app.ProcessId.ToString(), "--refresh", "500ms", "--format", "json", "--no-inject"], console, cts.Token);
        await WaitForAsync(() => error.ToString().Contains("t="), TimeSpan.FromSeconds(20));
        await cts.CancelAsync();
        var exit = await run.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal((int)ExitCode.FindingsPresent, exit);
        using var doc = JsonDocument.Parse(output.ToString());
        Assert.Contains("interrupted", error.ToString());
        Assert.NotEqual("healthy", doc.RootElement.GetProperty("verdict").GetString());

        // The session is gone: the target still exits promptly when asked.
        app.Kill();
    }

    [Fact]
    public async Task Another_users_process_is_permission_denied()
    {
        // Needs root to run the CLI as 'nobody' against our (root-owned) target; CI runs as root.
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root" || !File.Exists("/usr/bin/setpriv"))
        {
            return;
        }

        using var app = await TargetApp.StartAsync("healthy");
        var cli = Path.Combine(AppContext.BaseDirectory, "loopdoctor.dll");
        var info = new ProcessStartInfo("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "env", "HOME=/tmp", "dotnet", cli, "diagnose", "-p", app.ProcessId.ToString(), "--duration", "1s"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal((int)ExitCode.PermissionDenied, process.ExitCode);
        Assert.StartsWith($"loopdoctor: Permission denied connecting to process {app.ProcessId}", await stderr);
        Assert.Single((await stderr).Trim().Split('\n'));
        Assert.Equal("", await stdout);
    }

    [Fact]
    public async Task Sigterm_to_the_real_cli_stops_the_session_and_prints_the_report()
    {
        // The real executable and its signal handling (Ctrl+C is SIGINT; SIGTERM takes the same path and can be sent
        // to a child reliably, where a non-interactive shell may have SIGINT ignored).
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        using var app = await TargetApp.StartAsync("sync-over-async");
        var cli = Path.Combine(AppContext.BaseDirectory, "loopdoctor.dll");
        var info = new ProcessStartInfo("dotnet", [cli, "diagnose", "-p", app.ProcessId.ToString(), "--duration", "2m", "--format", "json", "--no-inject"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var attached = new TaskCompletionSource();
        var stderr = new System.Text.StringBuilder();
        var readErr = Task.Run(async () =>
        {
            while (await process.StandardError.ReadLineAsync() is { } line)
            {
                lock (stderr)
                {
                    stderr.AppendLine(line);
                }

                if (line.Contains("attached to", StringComparison.Ordinal))
                {
                    attached.TrySetResult();
                }
            }
        });
        await attached.Task.WaitAsync(TimeSpan.FromSeconds(30));
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString()]))
        {
            await kill.WaitForExitAsync();
        }

        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await readErr;
        Assert.Equal((int)ExitCode.FindingsPresent, process.ExitCode);
        using var doc = JsonDocument.Parse(await stdout);
        Assert.True(doc.RootElement.GetProperty("durationSeconds").GetDouble() < 60);
        Assert.Contains("interrupted", stderr.ToString());
        Assert.DoesNotContain("   at ", stderr.ToString());
    }

    private static async Task WaitForAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(deadline.Elapsed < timeout, "condition not met in time");
            await Task.Delay(50);
        }
    }
}
