using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LoopDoctor.Agent.AspNetCore;

/// <summary>The app's hold on the process-wide agent, started on first use (normally by the hosted service).</summary>
internal sealed class LoopDoctorAgentLease : IDisposable
{
    private readonly Lazy<AgentHold> _hold;

    public LoopDoctorAgentLease(IOptions<LoopDoctorOptions> options, ILogger<LoopDoctorAgentLease> logger)
    {
        _hold = new Lazy<AgentHold>(() =>
        {
            var hold = AgentHold.StartOrAdopt(options.Value);
            if (!hold.Owned)
            {
                logger.LogInformation("LoopDoctor agent already running ({Mode}); the app's LoopDoctor options are not applied.", hold.Agent.Options.Mode);
            }
            else if (hold.Agent.MetricsEndpoint is { } url)
            {
                logger.LogInformation("LoopDoctor standalone metrics endpoint at {Url}", url);
            }

            return hold;
        }, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public LoopDoctorAgent Agent => _hold.Value.Agent;

    public void Dispose()
    {
        if (_hold.IsValueCreated)
        {
            _hold.Value.Dispose();
        }
    }
}
