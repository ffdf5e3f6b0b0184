using System.Diagnostics.Tracing;
using LoopDoctor.Agent.Diagnostics;

namespace LoopDoctor.Agent.Tests.RuntimeSignals;

public sealed class AgentEventSourceManifestTests
{
    // An invalid EventSource fails silently at runtime (every event dropped); Strict makes the same check throw here.
    [Fact]
    public void LoopDoctor_Agent_event_source_is_valid()
    {
        var manifest = EventSource.GenerateManifest(typeof(LoopDoctorEventSource), typeof(LoopDoctorEventSource).Assembly.Location, EventManifestOptions.Strict);
        Assert.NotNull(manifest);
        foreach (var name in new[] { "AgentStarted", "QueueDelaySpike", "TimerLagSpike", "UnobservedTaskException" })
        {
            Assert.Contains($"symbol=\"{name}\"", manifest);
        }
    }
}
