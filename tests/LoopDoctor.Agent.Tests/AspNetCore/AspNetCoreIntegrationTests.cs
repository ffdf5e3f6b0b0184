using System.Net;
using LoopDoctor.Agent.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LoopDoctor.Agent.Tests.AspNetCore;

[Collection(AgentCollection.Name)]
public sealed class AspNetCoreIntegrationTests
{
    [Fact]
    public async Task Bad_option_stops_the_host_at_startup_naming_the_option()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => LocalWebApp.StartAsync(
            b => b.Services.AddLoopDoctor(o => o.ProbeInterval = TimeSpan.Zero),
            app => app.MapLoopDoctorMetrics()));
        Assert.Contains("ProbeInterval", error.Message);
        Assert.Null(LoopDoctorAgent.Current);
    }

    [Fact]
    public async Task MapLoopDoctorMetrics_without_AddLoopDoctor_says_what_is_missing()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => LocalWebApp.StartAsync(_ => { }, app => app.MapLoopDoctorMetrics()));
        Assert.Contains("AddLoopDoctor", error.Message);
    }

    [Fact]
    public async Task Metrics_endpoint_serves_the_agent_instruments_as_prometheus_text()
    {
        await using var web = await LocalWebApp.StartAsync(b => b.Services.AddLoopDoctor(), app => app.MapLoopDoctorMetrics("/metrics"));
        Assert.NotNull(LoopDoctorAgent.Current);

        var body = await PollUntilAsync(web.Client, "/metrics", text => text.Contains("loopdoctor_thread_pool_queue_delay_seconds_count"));
        Assert.Contains("# TYPE loopdoctor_thread_pool_queue_delay_seconds histogram", body);
        Assert.Contains(body.Split('\n'), line => line.StartsWith("loopdoctor_thread_pool_queue_delay_seconds_bucket{", StringComparison.Ordinal) && line.Contains("le=\"+Inf\"}"));
        Assert.Contains("loopdoctor_thread_pool_queue_delay_current_seconds", body);
        Assert.Contains("dotnet_thread_pool_queue_length", body);

        using var response = await web.Client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType!.ToString());
    }

    [Fact]
    public async Task Metrics_endpoint_speaks_OpenMetrics_when_asked()
    {
        await using var web = await LocalWebApp.StartAsync(b => b.Services.AddLoopDoctor(), app => app.MapLoopDoctorMetrics());
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.TryAddWithoutValidation("Accept", "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5");
        using var response = await web.Client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.StartsWith("application/openmetrics-text", response.Content.Headers.ContentType!.ToString());
        Assert.EndsWith("# EOF\n", body);
    }

    [Fact]
    public async Task The_app_adopts_an_agent_a_startup_hook_already_started_and_leaves_it_running()
    {
        using var hookAgent = LoopDoctorAgent.Start(new LoopDoctorOptions { Mode = AgentMode.StartupHook });
        await using (var web = await LocalWebApp.StartAsync(b => b.Services.AddLoopDoctor(), app => app.MapLoopDoctorMetrics()))
        {
            using var response = await web.Client.GetAsync("/metrics");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Same(hookAgent, LoopDoctorAgent.Current);
        }

        Assert.Same(hookAgent, LoopDoctorAgent.Current);
    }

    [Fact]
    public async Task The_agent_stops_with_the_app()
    {
        await using (var web = await LocalWebApp.StartAsync(b => b.Services.AddLoopDoctor(), app => app.MapLoopDoctorMetrics()))
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
