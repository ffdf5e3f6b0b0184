using LoopDoctor.Agent.AspNetCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary><c>builder.Services.AddHealthChecks().AddLoopDoctor()</c>.</summary>
public static class LoopDoctorHealthChecksBuilderExtensions
{
    /// <summary>
    /// Degraded when the windowed p99 thread-pool queue delay exceeds <c>LagThreshold</c>; Unhealthy when it (or the
    /// delay of the probe still waiting) exceeds <c>UnhealthyLagThreshold</c>, or when the runtime injected threads for
    /// starvation during a lag. Requires <c>AddLoopDoctor()</c>.
    /// </summary>
    public static IHealthChecksBuilder AddLoopDoctor(this IHealthChecksBuilder builder, string name = "loopdoctor", IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddCheck<LoopDoctorHealthCheck>(name, failureStatus: HealthStatus.Unhealthy, tags: tags ?? ["loopdoctor", "thread-pool"]);
    }
}
