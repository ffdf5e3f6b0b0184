using System.Diagnostics.Metrics;
using System.Net;
using LoopDoctor.Agent.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;

namespace LoopDoctor.Agent.Tests.AspNetCore;

/// <summary>
/// AddLoopDoctor on a real Kestrel app whose <c>/metrics</c> is the official OpenTelemetry Prometheus exporter
/// (<c>AddPrometheusExporter</c> + <c>MapPrometheusScrapingEndpoint</c>), as the README tells users to wire it.
/// </summary>
[Collection(AgentCollection.Name)]
public sealed class AspNetCoreIntegrationTests
{
    /// <summary>The README's wiring: the agent, the official exporter, its endpoint.</summary>
    internal static Task<LocalWebApp> StartWithOfficialEndpointAsync(Action<LoopDoctorOptions>? configure = null, Action<WebApplicationBuilder>? more = null, Action<WebApplication>? moreApp = null)
        => LocalWebApp.StartAsync(
            b =>
            {
                b.Services.AddLoopDoctor(configure);
                // No response cache: each scrape is a fresh collection, so tests see what was just recorded.
                b.Services.AddOpenTelemetry().WithMetrics(m => m.AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));
                more?.Invoke(b);
            },
            app =>
            {
                moreApp?.Invoke(app);
                app.MapPrometheusScrapingEndpoint("/metrics");
            });

    [Fact]
    public async Task Bad_option_stops_the_host_at_startup_naming_the_option()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartWithOfficialEndpointAsync(o => o.ProbeInterval = TimeSpan.Zero));
        Assert.Contains("ProbeInterval", error.Message);
        Assert.Null(LoopDoctorAgent.Current);
    }

    [Fact]
    public async Task An_app_already_exporting_to_Prometheus_gets_the_agent_instruments_by_adding_AddLoopDoctor()
    {
        // The app as it was: its own meter, its own OpenTelemetry pipeline with the official exporter and endpoint.
        using var appMeter = new Meter("ShopApp." + Guid.NewGuid().ToString("N"));
        appMeter.CreateObservableCounter("shop.orders", () => 1L); // observed at each scrape: no measurement is lost before a provider listens
        void AppPipeline(WebApplicationBuilder b) => b.Services.AddOpenTelemetry()
            .WithMetrics(m => m.AddMeter(appMeter.Name).AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));

        await using (var before = await LocalWebApp.StartAsync(AppPipeline, app => app.MapPrometheusScrapingEndpoint()))
        {
            var body = await before.Client.GetStringAsync("/metrics");
            Assert.Contains("shop_orders_total", body);
            Assert.DoesNotContain("loopdoctor_", body);
        }

        // The one line.
        await using var after = await LocalWebApp.StartAsync(b =>
        {
            AppPipeline(b);
            b.Services.AddLoopDoctor();
        }, app => app.MapPrometheusScrapingEndpoint());
        var metrics = await PollUntilAsync(after.Client, "/metrics", text => text.Contains("loopdoctor_thread_pool_queue_delay_seconds_count"));
        Assert.Contains("shop_orders_total", metrics); // the app's provider was adopted, not replaced
        Assert.Contains("# TYPE loopdoctor_thread_pool_queue_delay_seconds histogram", metrics);
        Assert.Contains("loopdoctor_thread_pool_queue_delay_current_seconds", metrics);
        Assert.Contains("dotnet_thread_pool_queue_length", metrics);
    }

    [Fact]
    public async Task IncludeRuntimeMetrics_false_leaves_System_Runtime_out_of_the_app_pipeline()
    {
        await using var web = await StartWithOfficialEndpointAsync(o => o.IncludeRuntimeMetrics = false);
        var body = await PollUntilAsync(web.Client, "/metrics", text => text.Contains("loopdoctor_thread_pool_queue_delay_seconds_count"));
        Assert.DoesNotContain("dotnet_gc_", body);
    }

    [Fact]
    public async Task Metrics_endpoint_speaks_OpenMetrics_when_asked()
    {
        await using var web = await StartWithOfficialEndpointAsync();
        await PollUntilAsync(web.Client, "/metrics", text => text.Contains("loopdoctor_thread_pool_queue_delay_seconds_count"));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.TryAddWithoutValidation("Accept", "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5");
        using var response = await web.Client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("application/openmetrics-text", response.Content.Headers.ContentType!.ToString());
        Assert.EndsWith("# EOF\n", body);
    }

    [Fact]
    public async Task The_app_adopts_an_agent_a_startup_hook_already_started_and_leaves_it_running()
    {
        using var hookAgent = LoopDoctorAgent.Start(new LoopDoctorOptions { Mode = AgentMode.StartupHook });
        await using (var web = await StartWithOfficialEndpointAsync())
        {
            // The hook's agent records into the same LoopDoctor meter the app's provider listens to.
            await PollUntilAsync(web.Client, "/metrics", text => text.Contains("loopdoctor_thread_pool_queue_delay_seconds_count"));
            Assert.Same(hookAgent, LoopDoctorAgent.Current);
        }

        Assert.Same(hookAgent, LoopDoctorAgent.Current);
    }

    [Fact]
    public async Task The_agent_stops_with_the_app()
    {
        await using (var web = await StartWithOfficialEndpointAsync())
        {
            Assert.NotNull(LoopDoctorAgent.Current);
        }

        Assert.Null(LoopDoctorAgent.Current);
    }

    internal static async Task<string> PollUntilAsync(HttpClient client, string path, Func<string, bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        string last = "";
        while (DateTime.UtcNow < deadline)
        {
            // Any status: /health answers 503 while Unhealthy, and that is a body worth polling past.
            using (var response = await client.GetAsync(path))
            {
                last = await response.Content.ReadAsStringAsync();
            }

            if (condition(last))
            {
                return last;
            }

            await Task.Delay(50);
        }

        throw new Xunit.Sdk.XunitException($"GET {path} never satisfied the condition within the timeout. Last body:\n{last}");
    }
}
