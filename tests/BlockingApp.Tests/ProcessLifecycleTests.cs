using System.Net;
using System.Net.Sockets;
using BlockingApp.Tests.Infrastructure;
using LoopDoctor.Testing;

namespace BlockingApp.Tests;

/// <summary>Start, stop, refuse: the app as a process (exit codes, one-line errors, no orphans).</summary>
public class ProcessLifecycleTests
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task SigtermStopsTheServerGracefully()
    {
        await using var server = await BlockingAppProcess.StartAsync();
        (await server.Http.GetAsync("healthy")).EnsureSuccessStatusCode();
        server.Process.Terminate();
        Assert.Equal(0, await server.Process.WaitForExitAsync(ExitTimeout));
        Assert.Equal($"stopped pid={server.Process.Pid}", server.Process.StdoutLines[^1]);
        Assert.False(TestProcess.IsRunning(server.Process.Pid));
    }

    [Fact]
    public async Task DisposeLeavesNoProcessBehind()
    {
        int pid;
        await using (var server = await BlockingAppProcess.StartAsync())
        {
            pid = server.Process.Pid;
            Assert.True(TestProcess.IsRunning(pid));
        }

        Assert.False(TestProcess.IsRunning(pid));
    }

    [Fact]
    public async Task WithoutTheAgentTheEndpointsWorkAndThereIsNoMetricsEndpoint()
    {
        await using var server = await BlockingAppProcess.StartAsync("--no-agent");
        (await server.Http.GetAsync("healthy")).EnsureSuccessStatusCode();
        (await server.Http.GetAsync("health")).EnsureSuccessStatusCode();
        using var metrics = await server.Http.GetAsync("metrics");
        Assert.Equal(HttpStatusCode.NotFound, metrics.StatusCode);
    }

    [Fact]
    public async Task MetricsUrlServesTheAgentsMetricsOnItsOwnPort()
    {
        await using var server = await BlockingAppProcess.StartAsync("--metrics-url", "http://127.0.0.1:0/metrics");
        // Printed before the ready line, so it is already captured.
        var line = await server.Process.WaitForLineAsync(@"^metrics url=(?<url>http://127\.0\.0\.1:(?<port>\d+)/metrics)$", TimeSpan.Zero);
        Assert.Equal(0, server.Process.StdoutLines.ToList().IndexOf(line.Value));
        Assert.NotEqual(server.BaseAddress.Port.ToString(), line.Groups["port"].Value);
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };
        using var response = await http.GetAsync(line.Groups["url"].Value);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.ToString());
        PrometheusScrape.Parse(await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task LoadSheddingFlagStartsTheServer()
    {
        await using var server = await BlockingAppProcess.StartAsync("--load-shedding");
        (await server.Http.GetAsync("healthy")).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task DurationStopsAServeOnlyInstanceByItself()
    {
        using var process = TestProcess.StartDotnet(RepoPaths.BlockingAppDll, ["--duration", "500ms"]);
        await process.WaitForLineAsync(BlockingAppProcess.ReadyLine(), BlockingAppProcess.StartTimeout);
        Assert.Equal(0, await process.WaitForExitAsync(ExitTimeout));
        Assert.StartsWith("stopped", process.StdoutLines[^1]);
    }

    [Fact]
    public async Task AddressVariablesInTheEnvironmentAreIgnoredQuietly()
    {
        var options = new TestProcessOptions();
        options.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:1";
        options.Environment["ASPNETCORE_HTTP_PORTS"] = "1";
        using var process = TestProcess.StartDotnet(RepoPaths.BlockingAppDll, ["--duration", "500ms"], options);
        var ready = await process.WaitForLineAsync(BlockingAppProcess.ReadyLine(), BlockingAppProcess.StartTimeout);
        Assert.NotEqual("1", ready.Groups["port"].Value);
        Assert.Equal(0, await process.WaitForExitAsync(ExitTimeout));
        Assert.Empty(process.StderrLines);
    }

    [Fact]
    public async Task PortInUseExitsWithCode1AndOneLine()
    {
        using var occupant = new TcpListener(IPAddress.Loopback, 0);
        occupant.Start();
        var port = ((IPEndPoint)occupant.LocalEndpoint).Port;
        using var process = TestProcess.StartDotnet(RepoPaths.BlockingAppDll, ["--urls", $"http://127.0.0.1:{port}"]);
        Assert.Equal(1, await process.WaitForExitAsync(ExitTimeout));
        var error = Assert.Single(process.StderrLines);
        Assert.StartsWith("BlockingApp: error: ", error);
        Assert.Contains(port.ToString(), error);
        Assert.Empty(process.StdoutLines);
    }

    [Theory]
    [InlineData("--bogus")]
    [InlineData("--scenario", "nope")]
    [InlineData("--scenario", "sleep", "--rps", "abc")]
    [InlineData("--scenario", "sleep", "--duration", "10")]
    [InlineData("--urls", "http://0.0.0.0:0")]
    [InlineData("load", "--scenario", "sleep")]
    [InlineData("--rps", "5")]
    public async Task BadArgumentsExitWithCode2AndOneLine(params string[] args)
    {
        using var process = TestProcess.StartDotnet(RepoPaths.BlockingAppDll, args);
        Assert.Equal(2, await process.WaitForExitAsync(ExitTimeout));
        var error = Assert.Single(process.StderrLines);
        Assert.StartsWith("BlockingApp: error: ", error);
        Assert.EndsWith("(see BlockingApp --help)", error);
        Assert.Empty(process.StdoutLines);
    }

    [Fact]
    public async Task HelpExitsWithCode0()
    {
        using var process = TestProcess.StartDotnet(RepoPaths.BlockingAppDll, ["--help"]);
        Assert.Equal(0, await process.WaitForExitAsync(ExitTimeout));
        Assert.Contains(process.StdoutLines, l => l.StartsWith("Usage:", StringComparison.Ordinal));
        Assert.Contains(process.StdoutLines, l => l.Contains("Exit codes: 0 ok, 1 runtime error"));
        Assert.Empty(process.StderrLines);
    }
}
