namespace LoopDoctor.Cli.Tests.CommandLine;

public class CommandLineTests
{
    [Theory]
    [InlineData("diagnose", "--process-id", "1", "--duration", "banana")]
    [InlineData("diagnose", "--process-id", "1", "--duration", "7")]   // a bare number: seconds or milliseconds?
    [InlineData("diagnose", "--process-id", "1", "--duration", "0s")]
    [InlineData("diagnose", "--process-id", "1", "--duration", "25h")] // at most a day
    [InlineData("diagnose", "--process-id", "1", "--format", "xml")]
    [InlineData("diagnose")]
    [InlineData("diagnose", "-p", "1", "-n", "x")]
    [InlineData("monitor", "--refresh", "0")]
    [InlineData("monitor", "-p", "1", "--stack-sampling", "sometimes")]
    [InlineData("monitor", "-p", "1", "--diagnostic-port", "/tmp/x.sock")]     // one target kind at a time
    [InlineData("monitor", "--all", "--diagnostic-port", "/tmp/x.sock")]
    [InlineData("monitor", "--all", "--prometheus-port", "0", "--prometheus-address", "localhost")] // an IP address
    [InlineData("monitor", "--diagnostic-port", "/nonexistent-dir-of-loopdoctor/x.sock")]          // cannot listen there
    [InlineData("diagnose", "-p", "1", "--snapshot", "--no-snapshot")]
    [InlineData("check", "-p", "1", "--snapshot", "--no-snapshot")]
    [InlineData("check", "--keep-dump", "--", "dotnet", "app.dll")]                              // a launched command is not snapshotted
    [InlineData("monitor", "--all", "--snapshot")]                                               // nor a fleet
    [InlineData("monitor", "-p", "1", "--hung-after", "soon")]
    [InlineData("frobnicate")]
    [InlineData]
    public async Task Usage_errors_exit_2_with_one_line_and_no_stack_trace(params string[] args)
    {
        var result = await CliRunner.RunAsync(args);
        Assert.Equal((int)ExitCode.UsageError, result.ExitCode);
        Assert.StartsWith("loopdoctor: ", result.Error);
        Assert.DoesNotContain("   at ", result.Error);
        Assert.Equal("", result.Out);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("diagnose", "--help")]
    [InlineData("monitor", "--help")]
    [InlineData("analyze", "--help")]
    [InlineData("ps", "--help")]
    [InlineData("demo", "--help")]
    public async Task Help_is_everywhere(params string[] args)
    {
        var result = await CliRunner.RunAsync(args);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Usage:", result.Out);
    }

    [Fact]
    public async Task Version_prints_the_version()
    {
        var result = await CliRunner.RunAsync("--version");
        Assert.Equal(0, result.ExitCode);
        Assert.Matches(@"^\d+\.\d+\.\d+", result.Out.Trim());
    }

    [Theory]
    [InlineData("diagnose", "--duration", "1s")]
    [InlineData("check")]                       // check's defaults: 20 s with a 2 s warm-up
    [InlineData("check", "--warmup", "5s")]
    [InlineData("monitor", "--snapshot", "--keep-dump", "--hung-after", "3s")]
    public async Task A_pid_that_does_not_exist_is_target_not_found(string command, params string[] options)
    {
        var result = await CliRunner.RunAsync([command, "-p", "999999", .. options]);
        Assert.Equal((int)ExitCode.TargetNotFound, result.ExitCode);
        Assert.Equal("loopdoctor: No process with id 999999 is running.", result.Error.Trim());
    }

    [Fact]
    public async Task A_name_that_matches_nothing_is_target_not_found()
    {
        var result = await CliRunner.RunAsync("diagnose", "-n", "no-such-app-" + Guid.NewGuid().ToString("N"));
        Assert.Equal((int)ExitCode.TargetNotFound, result.ExitCode);
        Assert.Single(result.Error.Trim().Split('\n'));
    }

    [Fact]
    public async Task A_missing_trace_file_is_invalid_trace_file()
    {
        var result = await CliRunner.RunAsync("analyze", "/nonexistent/x.nettrace");
        Assert.Equal((int)ExitCode.InvalidTraceFile, result.ExitCode);
        Assert.Equal("loopdoctor: Trace file '/nonexistent/x.nettrace' does not exist.", result.Error.Trim());
    }

    [Fact]
    public async Task A_corrupt_trace_file_is_invalid_trace_file()
    {
        var path = Path.Combine(Path.GetTempPath(), $"corrupt-{Guid.NewGuid():N}.nettrace");
        await File.WriteAllTextAsync(path, "Nettrace? no: this is not a trace at all, just some text that pretends.");
        try
        {
            var result = await CliRunner.RunAsync("analyze", path);
            Assert.Equal((int)ExitCode.InvalidTraceFile, result.ExitCode);
            Assert.Single(result.Error.Trim().Split('\n'));
            Assert.Contains("is not a readable .nettrace file", result.Error);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Ps_lists_itself_never_and_lists_no_dead_process()
    {
        var result = await CliRunner.RunAsync("ps");
        Assert.Equal(0, result.ExitCode);
        foreach (var line in result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1))
        {
            var pid = int.Parse(line.Trim().Split(' ')[0]);
            Assert.NotEqual(Environment.ProcessId, pid);
            Assert.True(Directory.Exists($"/proc/{pid}") || !OperatingSystem.IsLinux(), $"ps listed dead process {pid}");
        }
    }
}
