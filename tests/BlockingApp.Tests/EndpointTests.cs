using System.Net;
using System.Net.Http.Json;
using BlockingApp.Scenarios;
using BlockingApp.Tests.Infrastructure;
using LoopDoctor.Testing;

namespace BlockingApp.Tests;

/// <summary>One BlockingApp (agent embedded, ephemeral port) shared by the endpoint tests of this class.</summary>
public sealed class SharedServerFixture : IAsyncLifetime
{
    public BlockingAppProcess Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await BlockingAppProcess.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

public class EndpointTests(SharedServerFixture fixture) : IClassFixture<SharedServerFixture>
{
    private BlockingAppProcess Server => fixture.Server;

    public static TheoryData<string> Endpoints() => [.. ScenarioCatalog.Names];

    public static TheoryData<string> FixedTwins() => [.. ScenarioCatalog.All.Where(s => s.Culprit is not null).Select(s => s.Name)];

    [Fact]
    public void ReadyLineReportsTheBoundAddressAndTheRealPid()
    {
        Assert.Equal(Server.Process.Pid, Server.ReportedPid);
        Assert.Equal("127.0.0.1", Server.BaseAddress.Host);
        Assert.NotEqual(0, Server.BaseAddress.Port);
        // Exactly one ready line, and nothing else on stdout while serving.
        Assert.Equal(Server.Process.StdoutLines, Server.Process.StdoutLines.Where(l => BlockingAppProcess.ReadyLine().IsMatch(l)));
        Assert.Single(Server.Process.StdoutLines);
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task EveryEndpointAnswers200(string name)
    {
        var response = await GetScenarioAsync(ScenarioCatalog.Find(name)!.Path);
        Assert.False(response.Fixed);
        Assert.Equal(name, response.Scenario);
    }

    [Theory]
    [MemberData(nameof(FixedTwins))]
    public async Task EveryFixedTwinAnswers200(string name)
    {
        var response = await GetScenarioAsync(ScenarioCatalog.Find(name)!.FixedPath);
        Assert.True(response.Fixed);
    }

    [Theory]
    [InlineData("/sync-over-async", 200)]
    [InlineData("/sleep", 200)]
    [InlineData("/cpu", 300)]
    [InlineData("/api/customers/taskwait", 200)]
    [InlineData("/api/customers/tasksleepwait", 200)]
    [InlineData("/timeout", 2000)]
    public async Task BrokenEndpointsTakeTheirDocumentedTime(string path, double atLeastMs)
    {
        var response = await GetScenarioAsync(path);
        // Lower bound only: the work is time-bounded (sleep, delay, spin); a loaded machine may only make it longer.
        Assert.True(response.ElapsedMs >= atLeastMs * 0.95, $"{path} took {response.ElapsedMs} ms, expected ≥ {atLeastMs} ms");
    }

    [Fact]
    public async Task TimeoutTwinAnswersTheFallbackWithinItsDeadline()
    {
        var response = await GetScenarioAsync("/timeout?fixed=true");
        Assert.Contains("source=fallback", response.Detail);
        Assert.True(response.ElapsedMs < TimeoutScenario.DependencyHang.TotalMilliseconds,
            $"the fixed twin took {response.ElapsedMs} ms; its deadline is {TimeoutScenario.QuoteTimeout.TotalMilliseconds} ms");
    }

    [Fact]
    public async Task BadFixedValueIsABadRequest()
    {
        using var response = await Server.Http.GetAsync("sleep?fixed=maybe");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task ScenariosEndpointListsTheCatalog()
    {
        var listed = await Server.Http.GetFromJsonAsync<List<ScenarioInfo>>("scenarios");
        Assert.NotNull(listed);
        Assert.Equal(ScenarioCatalog.Names, listed.Select(s => s.Name));
        Assert.Equal("BlockingApp.Scenarios.SyncOverAsyncScenario.FetchReportBlocking",
            listed.Single(s => s.Name == "sync-over-async").Culprit);
    }

    [Fact]
    public async Task HealthAndMetricsAreMapped()
    {
        using var health = await Server.Http.GetAsync("health");
        Assert.True(health.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"/health answered {health.StatusCode}");
        using var metrics = await Server.Http.GetAsync("metrics");
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.StartsWith("text/plain", metrics.Content.Headers.ContentType?.ToString());
    }

    private async Task<ScenarioResponse> GetScenarioAsync(string pathAndQuery)
    {
        using var response = await Server.Http.GetAsync(pathAndQuery.TrimStart('/'));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{pathAndQuery} answered {(int)response.StatusCode}: {body}");
        return (await response.Content.ReadFromJsonAsync<ScenarioResponse>())!;
    }
}

/// <summary><c>/fire-and-forget</c> really produces unobserved task exceptions, and its twin really does not (no agent needed).</summary>
public sealed class FireAndForgetTests(SharedServerFixture fixture) : IClassFixture<SharedServerFixture>
{
    private const int Requests = 5;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    private BlockingAppProcess Server => fixture.Server;

    [Fact]
    public async Task DroppedTasksReachUnobservedTaskExceptionAfterAGc()
    {
        var before = await Server.CollectGarbageAsync();
        for (var i = 0; i < Requests; i++)
        {
            (await Server.Http.GetAsync("fire-and-forget")).EnsureSuccessStatusCode();
        }

        // Each dropped task faults 5 ms after its response; /gc collects and finalizes those that have. Poll until all
        // five have been reported (the signal is the count itself), within a deadline.
        var report = await PollGcAsync(r => r.UnobservedTaskExceptions >= before.UnobservedTaskExceptions + Requests);
        Assert.Equal(before.UnobservedTaskExceptions + Requests, report.UnobservedTaskExceptions);
    }

    [Fact]
    public async Task TrackedTasksAreObservedAndNeverUnobserved()
    {
        var before = await Server.CollectGarbageAsync();
        for (var i = 0; i < Requests; i++)
        {
            (await Server.Http.GetAsync("fire-and-forget?fixed=true")).EnsureSuccessStatusCode();
        }

        var report = await PollGcAsync(r => r.ObservedBackgroundFailures >= before.ObservedBackgroundFailures + Requests);
        Assert.Equal(before.ObservedBackgroundFailures + Requests, report.ObservedBackgroundFailures);
        Assert.Equal(before.UnobservedTaskExceptions, report.UnobservedTaskExceptions);
    }

    private async Task<GcReport> PollGcAsync(Func<GcReport, bool> done)
    {
        var started = DateTime.UtcNow;
        while (true)
        {
            var report = await Server.CollectGarbageAsync();
            if (done(report) || DateTime.UtcNow - started > Deadline)
            {
                return report;
            }

            await Task.Delay(50);
        }
    }
}
