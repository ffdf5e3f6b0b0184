using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace LoopDoctor.Agent.AspNetCore;

/// <summary>Maps the agent's <see cref="ThreadPoolHealth"/> to an ASP.NET Core health result.</summary>
internal sealed class LoopDoctorHealthCheck(LoopDoctorAgentLease lease) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var health = lease.Agent.GetThreadPoolHealth();
        var data = new Dictionary<string, object>
        {
            ["queueDelayP99Ms"] = health.QueueDelayP99.TotalMilliseconds,
            ["currentQueueDelayMs"] = health.CurrentQueueDelay.TotalMilliseconds,
            ["samples"] = health.SamplesInWindow,
            ["windowSeconds"] = health.Window.TotalSeconds,
        };
        var result = health.Status switch
        {
            ThreadPoolHealthStatus.Healthy => HealthCheckResult.Healthy(health.Description, data),
            ThreadPoolHealthStatus.Degraded => HealthCheckResult.Degraded(health.Description, data: data),
            _ => new HealthCheckResult(context.Registration.FailureStatus, health.Description, data: data),
        };
        return Task.FromResult(result);
    }
}
