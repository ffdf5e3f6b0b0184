using LoopDoctor.Agent.AspNetCore;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary><c>app.MapLoopDoctorMetrics("/metrics")</c>: the Prometheus scrape endpoint.</summary>
public static class LoopDoctorEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Serves the LoopDoctor and System.Runtime meters in Prometheus text format 0.0.4, or OpenMetrics 1.0 when the
    /// scraper's <c>Accept</c> header asks for it. Requires <c>AddLoopDoctor()</c>.
    /// </summary>
    public static IEndpointConventionBuilder MapLoopDoctorMetrics(this IEndpointRouteBuilder endpoints, string pattern = "/metrics")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        if (endpoints.ServiceProvider.GetService<LoopDoctorAgentLease>() is null)
        {
            throw new InvalidOperationException("MapLoopDoctorMetrics requires builder.Services.AddLoopDoctor().");
        }

        return endpoints.MapMethods(pattern, ["GET", "HEAD"], MetricsEndpoint.HandleAsync)
            .WithDisplayName("LoopDoctor metrics");
    }
}
