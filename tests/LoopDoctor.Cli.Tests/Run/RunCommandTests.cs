using System.Text.RegularExpressions;
using LoopDoctor.Cli.Tests.Integration;
using LoopDoctor.Testing;

namespace LoopDoctor.Cli.Tests.Run;

/// <summary><c>loopdoctor run</c> on real children: console targets, BlockingApp, non-.NET programs, signals.</summary>
[Collection(RealProcessCollection.Name)]
public class RunCommandTests
{
    [Fact]
    public async Task Console_child_output_and_exit_code_pass_through_with_the_agent_loaded_before_Main()
    {
        var (exit, output, error) = await LoopDoctorExe.RunAsync(["run", "--", "dotnet", LoopDoctorExe.RunTargetDll, "exit", "3"]);

        Assert.Equal(3, exit);
        // The agent came in by DOTNET_STARTUP_HOOKS: loaded before Main.
        Assert.Matches(@"hello from RunTarget pid=\d+ agent=True", output);
        Assert.Contains("LoopDoctor diagnosis of RunTarget", error);
    }

    [Fact]
    public async Task Stdin_passes_through_to_the_program()
    {
        using var process = LoopDoctorExe.Start(["run", "--refresh", "0", "--", "dotnet", LoopDoctorExe.RunTargetDll, "echo"]);
        await process.StandardInput.WriteLineAsync("ping from the test");
        process.StandardInput.Close();
        var exit = await process.WaitForExitAsync(LoopDoctorExe.Timeout);

        Assert.True(exit == 0, process.DescribeOutput());
        Assert.Contains("echo: ping from the test", process.StdoutLines);
    }

    [Fact]
    public async Task Apphost_executable_runs_and_its_exit_code_passes_through()
    {
        var (exit, output, error) = await LoopDoctorExe.RunAsync(["run", "--refresh", "0", "--", LoopDoctorExe.RunTargetAppHost, "exit", "5"]);

        Assert.True(exit == 5, error);
        Assert.Contains("hello from RunTarget", output);
        Assert.Contains("LoopDoctor diagnosis of RunTarget", error);
    }

    [Fact]
    public async Task Dotnet_run_sets_the_agent_for_the_app_only_and_observes_the_app()
    {
        var project = RepoPaths.Combine("tests/TestTargets/RunTarget/RunTarget.csproj");
        var (exit, output, error) = await LoopDoctorExe.RunAsync(
            ["run", "--refresh", "0", "--", "dotnet", "run", "--no-build", "-c", RepoPaths.Configuration, "--project", project, "--", "exit", "4"]);

        Assert.True(exit == 4, error);
        var pid = Regex.Match(output, @"hello from RunTarget pid=(\d+)");
        Assert.True(pid.Success, output);
        // The session was on the app (the SDK's grandchild), not on the dotnet run process.
        Assert.Contains($"RunTarget (pid {pid.Groups[1].Value})", error);
    }

    [Fact]
    public async Task A_program_that_is_not_dotnet_is_reported_in_one_line_with_exit_code_9()
    {
        var (exit, _, error) = await LoopDoctorExe.RunAsync(["run", "--", "/bin/true"]);

        Assert.Equal((int)ExitCode.NotDotNet, exit);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("not a .NET program", line);
    }

    [Fact]
    public async Task A_program_that_never_connects_is_stopped_after_the_connect_timeout()
    {
        var (exit, _, error) = await LoopDoctorExe.RunAsync(["run", "--connect-timeout", "1s", "--", "/bin/sleep", "30"]);

        Assert.Equal((int)ExitCode.NotDotNet, exit);
        Assert.Contains("did not connect", error);
        Assert.Contains("not a .NET program", error);
    }

    [Fact]
    public async Task A_command_that_cannot_start_exits_10()
    {
        var (exit, _, error) = await LoopDoctorExe.RunAsync(["run", "--", "/nonexistent/loopdoctor-no-such-program"]);

        Assert.Equal((int)ExitCode.LaunchFailed, exit);
        Assert.StartsWith("loopdoctor: Cannot start", error);
    }

    [Fact]
    public async Task No_command_is_a_usage_error()
    {
        var (exit, _, error) = await LoopDoctorExe.RunAsync(["run"]);

        Assert.Equal((int)ExitCode.UsageError, exit);
        Assert.Contains("No command to run", error);
    }

    [Fact]
    public async Task Ctrl_C_reaches_the_child_and_run_exits_with_its_code()
    {
        using var run = LoopDoctorExe.Start(["run", "--refresh", "0", "--", "dotnet", LoopDoctorExe.RunTargetDll, "wait"]);
        await run.WaitForLineAsync(@"^ready pid=\d+", LoopDoctorExe.Timeout);

        run.Interrupt(); // SIGINT to loopdoctor only: it must forward it

        Assert.Equal(42, await run.WaitForExitAsync(LoopDoctorExe.Timeout));
        Assert.Contains("stopping on SIGINT", run.StdoutLines);
        Assert.Contains(run.StderrLines, l => l.Contains("LoopDoctor diagnosis of RunTarget", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SIGTERM_reaches_the_child_as_SIGTERM()
    {
        using var run = LoopDoctorExe.Start(["run", "--refresh", "0", "--", "dotnet", LoopDoctorExe.RunTargetDll, "wait"]);
        await run.WaitForLineAsync(@"^ready pid=\d+", LoopDoctorExe.Timeout);

        run.Terminate();

        Assert.Equal(42, await run.WaitForExitAsync(LoopDoctorExe.Timeout));
        Assert.Contains("stopping on SIGTERM", run.StdoutLines);
    }

    [Fact]
    public async Task BlockingApp_sync_over_async_under_run_names_the_culprit_and_fail_on_gates_it()
    {
        var (exit, output, error) = await LoopDoctorExe.RunAsync(
            ["run", "--refresh", "1s", "--fail-on", "blocking-wait", "--",
             "dotnet", RepoPaths.BlockingAppDll, "--scenario", "sync-over-async", "--rps", "50", "--duration", "5s", "--drain", "1s"]);

        Assert.True(exit == (int)ExitCode.RegressionFound, error);
        Assert.Contains("summary scenario=sync-over-async", output); // the app's stdout passed through
        Assert.Contains("blocking-wait", error);
        Assert.Contains("BlockingApp.Scenarios.SyncOverAsyncScenario.", error);
        Assert.Contains(error.Split('\n'), l => l.StartsWith("loopdoctor: t=", StringComparison.Ordinal)); // live lines
        // The tier-1 JIT may inline the one-line wrapper FetchReportBlocking into HandleAsync, so the gate names whichever
        // of the two the stacks showed most: both are the scenario's own code.
        var gate = Assert.Single(error.Split('\n'), l => l.StartsWith("loopdoctor: --fail-on:", StringComparison.Ordinal));
        Assert.Matches(@"blocking-wait at BlockingApp\.Scenarios\.SyncOverAsyncScenario\.(FetchReportBlocking|HandleAsync) ", gate);
    }
}
