using System.Globalization;
using System.Text.RegularExpressions;
using LoopDoctor.Cli.Tests.Run;
using LoopDoctor.Testing;
using Xunit.Abstractions;

namespace LoopDoctor.Cli.Tests.Integration;

/// <summary>
/// The target survives (issue 19): every loopdoctor command that touches a running process, run for real
/// (<c>dotnet loopdoctor.dll</c>, EventPipe, the agent injected by default) against SurvivalTarget on .NET 8, 9 and 10
/// (tests/TestTargets/SurvivalTarget, published by <see cref="RuntimeTargets"/>). After each command: loopdoctor exited
/// with a documented success code, the target is still running, and it still answers <c>GET /ping</c> and <c>GET /work</c>.
/// Each case gets its own target process: one that a command killed cannot fail the next command's case.
/// </summary>
[Collection(RealProcessCollection.Name)]
[Trait("Category", "Survival")]
public sealed class TargetSurvivalTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan HttpTimeout = TimeSpan.FromSeconds(30);

    private readonly string _dir = Directory.CreateTempSubdirectory("loopdoctor-survival-").FullName;

    public static TheoryData<string> Runtimes => new(RuntimeTargets.Frameworks);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [MemberData(nameof(Runtimes))]
    public async Task Diagnose_with_the_agent_injected_leaves_the_target_serving(string framework)
    {
        // The injected agent reads the target's environment: it opens its standalone /metrics there, and logs to stderr.
        var metricsPort = FreePort.Next();
        using var target = await StartTargetAsync(framework, new Dictionary<string, string>
        {
            ["LOOPDOCTOR_METRICS_URL"] = $"http://127.0.0.1:{metricsPort}/metrics",
            ["LOOPDOCTOR_LOG"] = "stderr",
        });

        using var cli = LoopDoctorExe.Start(["diagnose", "-p", Pid(target), "--duration", "4s", "--format", "json"]);
        var exit = await cli.WaitForExitAsync(LoopDoctorExe.Timeout);

        await AssertSurvivedAsync(target, cli, exit, [ExitCode.Ok, ExitCode.FindingsPresent]);
        // The runtime is named, and the agent (one net8.0 build) runs on .NET 8, 9 and 10: its probe reaches the report.
        var stderr = string.Join(Environment.NewLine, cli.StderrLines);
        Assert.Contains($"(pid {target.Pid}, .NET {target.RuntimeVersion.Major}.", stderr);
        Assert.Contains("injected the LoopDoctor agent", stderr);
        using var report = System.Text.Json.JsonDocument.Parse(string.Join(Environment.NewLine, cli.StdoutLines));
        Assert.Equal(target.RuntimeVersion.ToString(3), report.RootElement.GetProperty("target").GetProperty("runtimeVersion").GetString());
        Assert.Equal("injected", report.RootElement.GetProperty("agent").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Object, report.RootElement.GetProperty("threadPool").GetProperty("queueDelayMilliseconds").ValueKind);

        // The agent stays after the session: its endpoint serves its probes and the runtime's thread-pool gauge, which
        // .NET 8 has no System.Runtime meter for (the agent stands in, and says so in one line).
        var (status, body) = await RuntimeTarget.GetAsync(metricsPort, "/metrics", HttpTimeout);
        Assert.True(status == 200, $"GET /metrics: {status}{Environment.NewLine}{body}{Environment.NewLine}{target.Process.DescribeOutput()}");
        Assert.Contains("loopdoctor_thread_pool_queue_delay_seconds_bucket{", body);
        Assert.Contains("\ndotnet_thread_pool_threads{otel_scope_name=\"System.Runtime\"", body);
        Assert.Equal(target.RuntimeVersion.Major < 9,
            target.Process.StderrLines.Any(l => l.Contains("has no System.Runtime meter (.NET 9+)", StringComparison.Ordinal)));
        Assert.Equal(target.RuntimeVersion.Major < 9,
            target.Process.StderrLines.Any(l => l.Contains("emits no WaitHandle events (.NET 9+)", StringComparison.Ordinal)));
    }

    [Theory]
    [MemberData(nameof(Runtimes))]
    public async Task The_startup_hook_applied_directly_never_kills_the_target(string framework)
    {
        // Without loopdoctor's runtime check: the hook's own defence. On .NET 9 the agent applied this way killed the target.
        using var target = await StartTargetAsync(framework);
        var hook = LoopDoctor.Cli.Targets.AgentDetection.FindStartupHook(out var problem);
        Assert.True(hook is not null, problem);

        new Microsoft.Diagnostics.NETCore.Client.DiagnosticsClient(target.Pid).ApplyStartupHook(hook);

        // The agent now runs in the target: a session that does not inject finds it there.
        using var cli = LoopDoctorExe.Start(["diagnose", "-p", Pid(target), "--duration", "2s", "--format", "json", "--no-inject"]);
        var exit = await cli.WaitForExitAsync(LoopDoctorExe.Timeout);
        await AssertSurvivedAsync(target, cli, exit, [ExitCode.Ok, ExitCode.FindingsPresent]);
        using (var report = System.Text.Json.JsonDocument.Parse(string.Join(Environment.NewLine, cli.StdoutLines)))
        {
            Assert.Equal("injected", report.RootElement.GetProperty("agent").GetString());
        }

        Assert.DoesNotContain(target.Process.StderrLines, l => l.StartsWith("loopdoctor-agent: not started", StringComparison.Ordinal));
        Assert.False(target.Process.HasExited, $"the target died:{Environment.NewLine}{target.Process.DescribeOutput()}");
        await AssertServesAsync(target.Port, target.Process, "after the hook was applied directly");
        Assert.Equal(target.RuntimeVersion, LoopDoctor.Cli.Targets.TargetRuntime.TryRead(target.Pid, out var unread)?.Version);
        Assert.Null(unread);
    }

    [Theory]
    [MemberData(nameof(Runtimes))]
    public async Task Diagnose_without_injection_leaves_the_target_serving(string framework)
    {
        using var target = await StartTargetAsync(framework);

        using var cli = LoopDoctorExe.Start(["diagnose", "-p", Pid(target), "--duration", "4s", "--format", "json", "--no-inject"]);
        var exit = await cli.WaitForExitAsync(LoopDoctorExe.Timeout);

        await AssertSurvivedAsync(target, cli, exit, [ExitCode.Ok, ExitCode.FindingsPresent]);
    }

    [Theory]
    [MemberData(nameof(Runtimes))]
    public async Task Monitor_stopped_with_ctrl_c_leaves_the_target_serving(string framework)
    {
        using var target = await StartTargetAsync(framework);

        using var cli = LoopDoctorExe.Start(["monitor", "-p", Pid(target), "--refresh", "1s", "--format", "json"]);
        // A few seconds of monitoring: the live line that reports t >= 3 s (or monitor ending by itself, which is judged below).
        var live = cli.WaitForLineAsync(@"t=([3-9]|\d{2,})\.\ds ", LoopDoctorExe.Timeout, OutputStream.Stderr);
        var ended = cli.WaitForExitAsync(LoopDoctorExe.Timeout);
        if (await Task.WhenAny(live, ended) == live && live.IsCompletedSuccessfully)
        {
            cli.Interrupt(); // Ctrl+C
        }

        var exit = await ended;

        await AssertSurvivedAsync(target, cli, exit, [ExitCode.Ok, ExitCode.FindingsPresent]);
        Assert.True(cli.StderrLines.Any(l => l.Contains("interrupted", StringComparison.Ordinal)),
            $"monitor ended without being interrupted:{Environment.NewLine}{cli.DescribeOutput()}");
    }

    [Theory]
    [MemberData(nameof(Runtimes))]
    public async Task Check_by_pid_leaves_the_target_serving(string framework)
    {
        using var target = await StartTargetAsync(framework);

        using var cli = LoopDoctorExe.Start(
            ["check", "-p", Pid(target), "--baseline", Path.Combine(_dir, "baseline.json"), "--duration", "5s", "--warmup", "1s", "--format", "json"]);
        var exit = await cli.WaitForExitAsync(LoopDoctorExe.Timeout);

        await AssertSurvivedAsync(target, cli, exit, [ExitCode.Ok, ExitCode.RegressionFound]);
    }

    [Theory]
    [MemberData(nameof(Runtimes))]
    public async Task Run_starts_the_program_and_it_serves_during_and_after_the_session(string framework)
    {
        // loopdoctor run loads the agent with DOTNET_STARTUP_HOOKS: the program must start, serve, and outlive the
        // session (--duration), then exit with its own code when its stdin (passed through) closes.
        var executable = await RuntimeTargets.ExecutableAsync(framework);
        using var cli = LoopDoctorExe.Start(["run", "--duration", "4s", "--refresh", "1s", "--", executable, .. RuntimeTargets.Arguments(TimeSpan.FromMinutes(2))]);

        output.WriteLine(RuntimeTargets.PublishLog(framework));
        var ready = await WaitForLineOrExitAsync(cli, RuntimeTarget.ReadyPattern, OutputStream.Stdout, "the program's ready line");
        var (pid, runtime, port) = RuntimeTarget.Parse(ready);
        output.WriteLine($"run: SurvivalTarget {framework} (runtime {runtime}, pid {pid}, port {port}) started under loopdoctor run");
        Assert.Equal(RuntimeTargets.MajorVersion(framework), runtime.Major);
        await AssertServesAsync(port, cli, "while loopdoctor run observes it");
        await WaitForLineOrExitAsync(cli, new Regex("LoopDoctor diagnosis of SurvivalTarget"), OutputStream.Stderr, "the diagnosis after --duration");
        Assert.True(TestProcess.IsRunning(pid), $"SurvivalTarget (pid {pid}) is gone after the session:{Environment.NewLine}{cli.DescribeOutput()}");
        await AssertServesAsync(port, cli, "after loopdoctor run's session ended");

        cli.StandardInput.Close(); // the program's stdin: it stops
        var exit = await cli.WaitForExitAsync(LoopDoctorExe.Timeout);
        output.WriteLine($"loopdoctor run exited with {exit}");
        Assert.True(exit == 0, $"loopdoctor run exited with {exit} (the program's code, expected 0):{Environment.NewLine}{cli.DescribeOutput()}");
        Assert.Contains("stopping: stdin closed", cli.StdoutLines);
        Assert.DoesNotContain(cli.StderrLines, l => l.StartsWith("loopdoctor-agent: not started", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_trimmed_app_is_not_injected_because_its_runtime_cannot_load_the_hook()
    {
        using var target = await StartTargetAsync(RuntimeTargets.TrimmedFramework);

        using var cli = LoopDoctorExe.Start(["diagnose", "-p", Pid(target), "--duration", "3s", "--format", "json"]);
        var exit = await cli.WaitForExitAsync(LoopDoctorExe.Timeout);

        await AssertSurvivedAsync(target, cli, exit, [ExitCode.Ok, ExitCode.FindingsPresent]);
        var stderr = string.Join(Environment.NewLine, cli.StderrLines);
        Assert.Contains($"not injecting the agent into {target.Pid}: its runtime could not load the startup hook (", stderr);
        Assert.Contains("(a trimmed app?)", stderr);
    }

    [Fact]
    public async Task The_trimmed_app_really_dies_when_the_hook_is_applied_regardless()
    {
        // Why the check above exists: applied anyway, the runtime fails to load the hook's types and terminates the process.
        // If a runtime update stops this, the check may be relaxed (docs/startup-hook.md).
        using var target = await StartTargetAsync(RuntimeTargets.TrimmedFramework);
        var hook = LoopDoctor.Cli.Targets.AgentDetection.FindStartupHook(out var problem);
        Assert.True(hook is not null, problem);
        Assert.NotNull(LoopDoctor.Cli.Targets.HookCompatibility.Problem(target.Pid, hook));

        try
        {
            new Microsoft.Diagnostics.NETCore.Client.DiagnosticsClient(target.Pid).ApplyStartupHook(hook);
        }
        catch (Exception ex) when (ex is EndOfStreamException or IOException or Microsoft.Diagnostics.NETCore.Client.ServerErrorException)
        {
            output.WriteLine($"ApplyStartupHook: {ex.GetType().Name}: {ex.Message}");
        }

        Assert.NotEqual(0, await target.Process.WaitForExitAsync(LoopDoctorExe.Timeout));
    }

    private async Task<RuntimeTarget> StartTargetAsync(string framework, IReadOnlyDictionary<string, string>? environment = null)
    {
        var target = await RuntimeTargets.StartAsync(framework, environment: environment);
        output.WriteLine(RuntimeTargets.PublishLog(framework));
        output.WriteLine($"started {target}");
        try
        {
            Assert.Equal(RuntimeTargets.MajorVersion(framework), target.RuntimeVersion.Major); // net10.0-trimmed: 10
            await AssertServesAsync(target.Port, target.Process, "before loopdoctor touched it");
            return target;
        }
        catch
        {
            target.Dispose();
            throw;
        }
    }

    private static string Pid(RuntimeTarget target) => target.Pid.ToString(CultureInfo.InvariantCulture);

    /// <summary>loopdoctor exited with one of <paramref name="allowed"/>; the target runs and serves.</summary>
    private async Task AssertSurvivedAsync(RuntimeTarget target, TestProcess cli, int exit, ExitCode[] allowed)
    {
        output.WriteLine($"loopdoctor exited with {exit}; target {(target.Process.HasExited ? $"EXITED with {target.Process.ExitCode}" : "running")}");
        foreach (var line in cli.StderrLines.Where(l => l.StartsWith("loopdoctor:", StringComparison.Ordinal)))
        {
            output.WriteLine("  " + line);
        }

        var context = $"{Environment.NewLine}loopdoctor ({cli.CommandLine}):{Environment.NewLine}{cli.DescribeOutput()}" +
                      $"target ({target}):{Environment.NewLine}{target.Process.DescribeOutput()}";

        Assert.False(target.Process.HasExited || !TestProcess.IsRunning(target.Pid),
            $"the target died: exit code {target.Process.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "?"}, loopdoctor exit {exit}.{context}");
        Assert.True(allowed.Contains((ExitCode)exit),
            $"loopdoctor exited with {exit}, expected one of {string.Join(", ", allowed.Select(a => $"{(int)a} ({a})"))}.{context}");
        await AssertServesAsync(target.Port, target.Process, "after loopdoctor detached", context);
    }

    private static async Task AssertServesAsync(int port, TestProcess process, string when, string? context = null)
    {
        context ??= $"{Environment.NewLine}{process.DescribeOutput()}";
        (int Status, string Body) ping, work;
        try
        {
            ping = await RuntimeTarget.GetAsync(port, "/ping", HttpTimeout);
            work = await RuntimeTarget.GetAsync(port, "/work", HttpTimeout);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException($"SurvivalTarget on port {port} did not answer {when}: {ex.Message}{context}");
        }

        Assert.True(ping == (200, "pong"), $"GET /ping {when}: {ping.Status} '{ping.Body}'{context}");
        Assert.True(work == (200, "done 8"), $"GET /work {when}: {work.Status} '{work.Body}'{context}");
    }

    /// <summary>The line, or a failure naming how the process ended (its exit code and output) when it exits first.</summary>
    private static async Task<Match> WaitForLineOrExitAsync(TestProcess process, Regex pattern, OutputStream stream, string what)
    {
        try
        {
            return await process.WaitForLineAsync(pattern, LoopDoctorExe.Timeout, stream);
        }
        catch (TestProcessException)
        {
            // Closed or timed out: say how loopdoctor ended (or that it still runs), with everything it printed.
            int? exit;
            try
            {
                exit = await process.WaitForExitAsync(TimeSpan.FromSeconds(30));
            }
            catch (TestProcessException)
            {
                exit = null;
            }

            throw new Xunit.Sdk.XunitException(
                $"No {what}; loopdoctor {(exit is { } code ? $"exited with {code}" : "is still running")}.{Environment.NewLine}" +
                $"{process.CommandLine}{Environment.NewLine}{process.DescribeOutput()}");
        }
    }
}
