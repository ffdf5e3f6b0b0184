using System.Net;
using System.Net.Sockets;
using BlockingApp.Tests.Infrastructure;
using LoopDoctor.Testing;

namespace BlockingApp.Tests;

/// <summary>The built-in open-loop load driver, in both modes, against real servers.</summary>
public class LoadDriverTests
{
    // A 2 s run plus startup, drain and stop; generous for a shared 2-core machine.
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task SelfDrivenRunExitsByItselfWithASummary()
    {
        using var process = TestProcess.StartDotnet(RepoPaths.BlockingAppDll, ["--scenario", "healthy", "--rps", "20", "--duration", "2s"]);
        Assert.Equal(0, await process.WaitForExitAsync(RunTimeout));
        var lines = process.StdoutLines;
        Assert.Equal(3, lines.Count);
        Assert.Matches(BlockingAppProcess.ReadyLine(), lines[0]);
        Assert.StartsWith("stopped", lines[2]);

        var summary = SummaryLine.Parse(lines[1]);
        Assert.Equal("healthy", summary["scenario"]);
        Assert.Equal("false", summary["interrupted"]);
        Assert.Equal(40, summary.Long("sent")); // open loop: every due request is sent, 20/s × 2 s
        Assert.Equal(summary.Long("sent"), summary.Long("completed"));
        Assert.Equal(0, summary.Long("failed"));
        Assert.Equal(0, summary.Long("unfinished"));
        Assert.InRange(summary.Double("p50_ms"), 20 * 0.95, 5_000); // /healthy awaits a 20 ms dependency
        Assert.True(summary.Double("p99_ms") >= summary.Double("p50_ms"));
        Assert.False(TestProcess.IsRunning(process.Pid));
    }

    [Fact]
    public async Task SelfDrivenRunOfABlockingScenarioKeepsSendingAndStillFinishes()
    {
        using var process = TestProcess.StartDotnet(RepoPaths.BlockingAppDll, ["--scenario", "sleep", "--rps", "20", "--duration", "2s"]);
        Assert.Equal(0, await process.WaitForExitAsync(RunTimeout));
        var summary = await SummaryLine.ReadAsync(process, TimeSpan.Zero);
        // The pacer runs on its own thread: the server starving this process's pool does not slow the sending.
        Assert.Equal(40, summary.Long("sent"));
        Assert.Equal(summary.Long("sent"), summary.Long("completed") + summary.Long("failed") + summary.Long("unfinished"));
        Assert.True(summary.Long("completed") > 0, summary.Line);
        Assert.True(summary.Double("p50_ms") >= 200 * 0.95, $"every /sleep request sleeps 200 ms: {summary.Line}");
    }

    [Fact]
    public async Task LoadCommandDrivesAnotherInstance()
    {
        await using var server = await BlockingAppProcess.StartAsync("--no-agent");
        using var load = TestProcess.StartDotnet(RepoPaths.BlockingAppDll,
            ["load", "--url", server.BaseAddress.AbsoluteUri, "--scenario", "lock", "--fixed", "--rps", "20", "--duration", "1s"]);
        Assert.Equal(0, await load.WaitForExitAsync(RunTimeout));
        var summary = SummaryLine.Parse(Assert.Single(load.StdoutLines));
        Assert.Equal(new Uri(server.BaseAddress, "lock?fixed=true").AbsoluteUri, summary["url"]);
        Assert.Equal("true", summary["fixed"]);
        Assert.Equal(20, summary.Long("sent"));
        Assert.Equal(20, summary.Long("completed"));
        Assert.True(server.Process.HasExited is false, "the driven server must keep running");
    }

    [Fact]
    public async Task LoadAgainstNothingExitsWithCode3()
    {
        int closedPort;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            closedPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        using var load = TestProcess.StartDotnet(RepoPaths.BlockingAppDll,
            ["load", "--url", $"http://127.0.0.1:{closedPort}", "--scenario", "healthy", "--rps", "20", "--duration", "500ms"]);
        Assert.Equal(3, await load.WaitForExitAsync(RunTimeout));
        var summary = SummaryLine.Parse(Assert.Single(load.StdoutLines));
        Assert.Equal(10, summary.Long("sent"));
        Assert.Equal(0, summary.Long("completed"));
        Assert.Equal(10, summary.Long("failed"));
        Assert.Equal("ConnectionError:10", summary["errors"]);
        Assert.Equal("NaN", summary["p99_ms"]);
    }

    [Fact]
    public async Task SigtermEndsAnOpenEndedRunWithASummary()
    {
        using var process = TestProcess.StartDotnet(RepoPaths.BlockingAppDll, ["--scenario", "healthy", "--rps", "20"]);
        await process.WaitForLineAsync(BlockingAppProcess.ReadyLine(), BlockingAppProcess.StartTimeout);
        process.Terminate();
        Assert.Equal(0, await process.WaitForExitAsync(RunTimeout));
        var summary = await SummaryLine.ReadAsync(process, TimeSpan.Zero);
        Assert.Equal("true", summary["interrupted"]);
        Assert.Equal("until-stopped", summary["duration"]);
        Assert.StartsWith("stopped", process.StdoutLines[^1]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task FireAndForgetRunReportsTheTargetsUnobservedExceptions(bool isFixed)
    {
        string[] args = ["--scenario", "fire-and-forget", "--rps", "20", "--duration", "1s", .. (isFixed ? new[] { "--fixed" } : [])];
        using var process = TestProcess.StartDotnet(RepoPaths.BlockingAppDll, args);
        Assert.Equal(0, await process.WaitForExitAsync(RunTimeout));
        var summary = await SummaryLine.ReadAsync(process, TimeSpan.Zero);
        var unobserved = summary.Long("unobserved_task_exceptions");
        if (isFixed)
        {
            Assert.Equal(0, unobserved);
        }
        else
        {
            // Each request drops one faulting task; the driver's final /gc reports those already faulted and collected.
            Assert.InRange(unobserved, 1, summary.Long("sent"));
        }
    }
}
