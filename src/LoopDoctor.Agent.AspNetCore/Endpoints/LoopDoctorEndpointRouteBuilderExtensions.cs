using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Microsoft.AspNetCore.Builder;

/// <summary><c>app.MapLoopDoctorMetrics("/metrics")</c>: the Prometheus scrape endpoint.</summary>
public static class LoopDoctorEndpointRouteBuilderExtensions
{
    public static IEndpointConventionBuilder MapLoopDoctorMetrics(this IEndpointRouteBuilder endpoints, string pattern = "/metrics")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        // STUB: filled in by the integration step.
        return endpoints.MapGet(pattern, () => Results.Text("", "text/plain; version=0.0.4; charset=utf-8"));
    }
}
