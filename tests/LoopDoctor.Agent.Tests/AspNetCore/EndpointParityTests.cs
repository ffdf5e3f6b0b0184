using LoopDoctor.Agent.Tests.Grafana;
using LoopDoctor.Agent.Tests.Prometheus;
using Xunit.Abstractions;

namespace LoopDoctor.Agent.Tests.AspNetCore;

/// <summary>
/// One process serving both endpoints (the official exporter at Kestrel's <c>/metrics</c>, the agent's standalone
/// <c>MetricsUrl</c>): the LoopDoctor meter's families are the same on both, so a user can switch without breaking
/// dashboards or alerts.
/// </summary>
[Collection(AgentCollection.Name)]
public sealed class EndpointParityTests(ITestOutputHelper output)
{
    private const string OpenMetricsAccept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5";
    private const string TextAccept = "text/plain;version=0.0.4";

    [Theory]
    [InlineData(TextAccept)]
    [InlineData(OpenMetricsAccept)]
    public async Task Both_endpoints_expose_the_same_LoopDoctor_families_with_the_same_types_units_and_labels(string accept)
    {
        await using var web = await AspNetCoreIntegrationTests.StartWithOfficialEndpointAsync(o =>
        {
            o.MetricsUrl = "http://127.0.0.1:0/metrics";
            o.ScrapeCacheDuration = TimeSpan.Zero;
        });
        var standalone = LoopDoctorAgent.Current!.MetricsEndpoint!;
        var official = new Uri(web.Address, "/metrics");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };

        // A counter and its histogram exist only once something happened: make it happen; the probes' histograms once
        // their first samples are in (the timer probe ticks every 100 ms).
        DashboardMetricNamesTests.ProvokeLockContention();
        foreach (var url in new[] { official, standalone })
        {
            await AspNetCoreIntegrationTests.PollUntilAsync(http, url.ToString(), t => t.Contains("loopdoctor_lock_contentions_total")
                && t.Contains("loopdoctor_timer_lag_seconds_count") && t.Contains("loopdoctor_thread_pool_queue_delay_seconds_count"));
        }

        // Families appear when first recorded, in both pipelines at once: standalone ⊆ official ⊆ standalone-after.
        var before = await ScrapeAsync(http, standalone, accept);
        var viaOfficial = await ScrapeAsync(http, official, accept);
        var after = await ScrapeAsync(http, standalone, accept);
        foreach (var family in viaOfficial.Values.OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            output.WriteLine($"official:   {family}");
            output.WriteLine($"standalone: {(after.TryGetValue(family.Name, out var ours) ? ours.ToString() : "MISSING")}");
        }

        Assert.True(before.Count >= 7, $"only {before.Count} LoopDoctor families: {string.Join(", ", before.Keys)}");
        var problems = new List<string>();
        problems.AddRange(before.Keys.Except(viaOfficial.Keys).Select(name => $"{name}: standalone only"));
        problems.AddRange(viaOfficial.Keys.Except(after.Keys).Select(name => $"{name}: official only"));
        foreach (var (name, theirs) in viaOfficial)
        {
            if (after.TryGetValue(name, out var ours) && (ours.Type != theirs.Type || ours.Unit != theirs.Unit || !ours.LabelNames.SetEquals(theirs.LabelNames)))
            {
                problems.Add($"official {theirs} ≠ standalone {ours}");
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    /// <summary>The LoopDoctor meter's families in one scrape.</summary>
    private static async Task<Dictionary<string, MetricFamily>> ScrapeAsync(HttpClient http, Uri url, string accept)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation("Accept", accept);
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        Assert.Equal(accept == OpenMetricsAccept ? "application/openmetrics-text" : "text/plain", response.Content.Headers.ContentType!.MediaType);
        var families = MetricFamilies.Parse(await response.Content.ReadAsStringAsync());
        return families.Where(f => f.Key.StartsWith("loopdoctor_", StringComparison.Ordinal)).ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);
    }
}
