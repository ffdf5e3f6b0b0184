using Microsoft.Extensions.Hosting;

namespace LoopDoctor.Agent.AspNetCore;

/// <summary>Starts the agent with the host, so probes run before the first request; the lease stops it on dispose.</summary>
internal sealed class LoopDoctorHostedService(LoopDoctorAgentLease lease) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = lease.Agent;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
