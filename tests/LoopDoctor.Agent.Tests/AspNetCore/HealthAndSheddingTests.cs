using System.Diagnostics;
using System.Net;
using LoopDoctor.Agent.AspNetCore;
using LoopDoctor.Agent.Tests.Probes;
using LoopDoctor.Agent.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using Xunit.Abstractions;

namespace LoopDoctor.Agent.Tests.AspNetCore;

/// <summary>Real stalls of the real pool, seen through /health and load shedding on a real Kestrel.</summary>
[Collection(AgentCollection.Name)]
public sealed class HealthAndSheddingTests(ITestOutputHelper output)
{
    private static void Configure(LoopDoctorOptions o)
    {
        o.LagThreshold = TimeSpan.FromMilliseconds(100);
        o.UnhealthyLagThreshold = TimeSpan.FromSeconds(2);
        o.HealthWindow = TimeSpan.FromSeconds(2);
    }

    [Fact]
    public async Task Health_turns_degraded_during_a_stall_and_healthy_after()
    {
        await using var web = await LocalWebApp.StartAsync(
            b =>
            {
                b.Services.AddLoopDoctor(Configure).AddHealthChecks().AddLoopDoctor();
                b.Services.AddOpenTelemetry().WithMetrics(m => m.AddPrometheusExporter());
            },
            app => app.MapHealthChecks("/health"));
        var agent = LoopDoctorAgent.Current!;

        var healthyBody = await AspNetCoreIntegrationTests.PollUntilAsync(web.Client, "/health", body => body == "Healthy");
        Assert.Equal("Healthy", healthyBody);

        ThreadPoolHealth? during = null;
        await Dedicated.RunAsync(() =>
        {
            using var stall = ThreadPoolStall.Begin();
            // The health rules are evaluated from this non-pool thread while no pool thread is free.
            Assert.True(Poll.Until(() => (during = agent.GetThreadPoolHealth()).Status != ThreadPoolHealthStatus.Healthy, TimeSpan.FromSeconds(5)),
                $"health stayed Healthy during the stall: {during}");
            HoldUntil(stall, TimeSpan.FromMilliseconds(300));
        });
        output.WriteLine($"during the stall: {during}");
        Assert.Equal(ThreadPoolHealthStatus.Degraded, during!.Status);

        // The sampler records the late probe at its next tick after the probe ran; wait for that, not for a time.
        Assert.True(Poll.Until(() => agent.QueueDelay!.GetSnapshot(TimeSpan.FromSeconds(2)).Max >= TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(5)),
            $"the stall was never recorded: {agent.QueueDelay!.GetCumulativeSnapshot()}");

        // Right after the stall the window still holds the 300 ms samples.
        using (var response = await web.Client.GetAsync("/health"))
        {
            var body = await response.Content.ReadAsStringAsync();
            output.WriteLine($"after the stall: {(int)response.StatusCode} {body} {agent.GetThreadPoolHealth()}");
            Assert.Equal("Degraded", body);
        }

        // Once the stall leaves the 2 s window the pool is healthy again.
        await AspNetCoreIntegrationTests.PollUntilAsync(web.Client, "/health", body => body == "Healthy", TimeSpan.FromSeconds(15));
    }

    [Fact]
    public async Task Load_shedding_rejects_with_retry_after_while_lagging_and_spares_health_and_metrics()
    {
        await using var web = await LocalWebApp.StartAsync(
            b =>
            {
                b.Services.AddLoopDoctor(Configure).AddHealthChecks().AddLoopDoctor();
                b.Services.AddOpenTelemetry().WithMetrics(m => m.AddPrometheusExporter());
            },
            app =>
            {
                app.UseLoopDoctorLoadShedding();
                app.MapGet("/work", () => "done");
                app.MapHealthChecks("/health");
                app.MapPrometheusScrapingEndpoint("/metrics");
            });
        var agent = LoopDoctorAgent.Current!;
        // A host that just started can lag past the threshold while it compiles its pipeline (seen on a clean 2-core CI
        // machine: the first request was shed); this test is about a stall later on, so it starts from no shedding.
        Assert.True(Poll.Until(() => agent.GetShedProbability() == 0, TimeSpan.FromSeconds(15)),
            $"still shedding after start-up: probability {agent.GetShedProbability()}");
        using (var ok = await web.Client.GetAsync("/work"))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        // 500 ms of queue delay against a 100 ms threshold: past 2×, so every request is shed.
        await Dedicated.RunAsync(() =>
        {
            using var stall = ThreadPoolStall.Begin();
            HoldUntil(stall, TimeSpan.FromMilliseconds(500));
        });
        Assert.True(Poll.Until(() => agent.GetShedProbability() >= 1.0, TimeSpan.FromSeconds(5)),
            $"shed probability stayed at {agent.GetShedProbability()}: {agent.QueueDelay!.GetCumulativeSnapshot()}");

        using (var shed = await web.Client.GetAsync("/work"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, shed.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(1), shed.Headers.RetryAfter?.Delta);
        }

        using (var health = await web.Client.GetAsync("/health"))
        {
            // Answered by the health check itself (a shed request has no body and a Retry-After header).
            Assert.Null(health.Headers.RetryAfter);
            Assert.Contains(await health.Content.ReadAsStringAsync(), new[] { "Healthy", "Degraded", "Unhealthy" });
        }

        using (var metrics = await web.Client.GetAsync("/metrics"))
        {
            Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        }

        // When the 2 s shedding window has passed, requests flow again.
        var clock = Stopwatch.StartNew();
        HttpStatusCode last;
        do
        {
            using var response = await web.Client.GetAsync("/work");
            last = response.StatusCode;
            if (last == HttpStatusCode.OK) break;
            await Task.Delay(100);
        }
        while (clock.Elapsed < TimeSpan.FromSeconds(15));
        Assert.Equal(HttpStatusCode.OK, last);
    }

    [Fact]
    public void Load_shedding_options_are_validated()
    {
        var options = new LoadSheddingOptions { RetryAfter = TimeSpan.Zero };
        var error = Assert.Throws<LoopDoctorConfigurationException>(options.Validate);
        Assert.Equal("RetryAfter", error.OptionName);
    }

    private static void HoldUntil(ThreadPoolStall stall, TimeSpan length)
    {
        // A stall is a deliberate hold of known length: this wait is the behaviour under test, not synchronisation.
        var remaining = length - stall.Elapsed;
        if (remaining > TimeSpan.Zero)
        {
            Thread.Sleep(remaining);
        }

        stall.Release();
    }
}
