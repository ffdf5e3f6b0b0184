namespace LoopDoctor.Agent.Diagnostics;

/// <summary>
/// The declared event ids of <see cref="LoopDoctorEventSource"/>: an attacher may rely on them (the source is
/// manifest-based, so they survive EventPipe). An id is never reused; an event's payload only grows at its end.
/// </summary>
internal enum AgentEventId
{
    AgentStarted = 1,
    QueueDelaySpike = 2,
    TimerLagSpike = 3,
    UnobservedTaskException = 4,
    AgentMessage = 5,
    EndpointMatched = 6,
}
