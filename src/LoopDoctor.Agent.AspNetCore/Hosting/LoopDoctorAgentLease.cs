using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LoopDoctor.Agent.AspNetCore;

/// <summary>
/// The app's hold on the process-wide agent: starts it on first use, or adopts one a startup hook already started
/// (and then leaves it running on dispose, since the app did not start it).
/// </summary>
internal sealed class LoopDoctorAgentLease : IDisposable
{
    private readonly Lazy<LoopDoctorAgent> _agent;
    private bool _owned;

    public LoopDoctorAgentLease(IOptions<LoopDoctorOptions> options, ILogger<LoopDoctorAgentLease> logger)
    {
        _agent = new Lazy<LoopDoctorAgent>(() =>
        {
            if (LoopDoctorAgent.Current is { } existing)
            {
                logger.LogInformation("LoopDoctor agent already running ({Mode}); the app's options are not applied.", existing.Options.Mode);
                return existing;
            }

            var agent = LoopDoctorAgent.Start(options.Value);
            _owned = true;
            if (agent.Options.MetricsUrl is { } url)
            {
                logger.LogInformation("LoopDoctor standalone metrics endpoint at {Url}", url);
            }

            return agent;
        }, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public LoopDoctorAgent Agent => _agent.Value;

    public void Dispose()
    {
        if (_agent.IsValueCreated && _owned)
        {
            _agent.Value.Dispose();
        }
    }
}
