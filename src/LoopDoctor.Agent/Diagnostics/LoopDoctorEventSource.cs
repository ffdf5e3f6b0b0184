using System.Diagnostics.Tracing;

namespace LoopDoctor.Agent.Diagnostics;

/// <summary>
/// <c>LoopDoctor-Agent</c>: lets an attacher (the <c>loopdoctor</c> CLI, dotnet-trace) read the agent over EventPipe.
/// Manifest-based so each event keeps its declared id (<see cref="AgentEventId"/>) over EventPipe: a self-describing
/// source's events arrive with per-process metadata ids, and a live TraceLog shows neither event nor payload names
/// (measured, TraceEvent 4.0). Payloads are integers (microseconds): a <c>(double,double)</c> payload never arrived
/// over EventPipe on .NET 10 while <c>(long,long)</c> did. No event name ends in Start/Stop, which EventSource would
/// rename to Opcode pairs. The CLI decodes each event (src/LoopDoctor.Cli/Sessions/Decoders/AgentEventDecoder.cs).
/// </summary>
[EventSource(Name = SourceName)]
internal sealed class LoopDoctorEventSource : EventSource
{
    public const string SourceName = "LoopDoctor-Agent";

    public static readonly LoopDoctorEventSource Log = new();

    /// <summary>Every keyword: what an attacher enables to hear all of the agent (not in <see cref="Keywords"/>, whose members must each be one bit).</summary>
    public const EventKeywords AllKeywords = Keywords.Lifecycle | Keywords.Lag | Keywords.Exceptions | Keywords.Requests;

    public static class Keywords
    {
        public const EventKeywords Lifecycle = (EventKeywords)0x1;
        public const EventKeywords Lag = (EventKeywords)0x2;
        public const EventKeywords Exceptions = (EventKeywords)0x4;

        /// <summary>One event per ASP.NET Core request (its endpoint), on the request's thread: for an attacher's attribution only.</summary>
        public const EventKeywords Requests = (EventKeywords)0x8;
    }

    // Set by the running agent; read when a listener enables the source so it learns at once that an agent is here.
    private volatile AgentDescription? _agent;

    private LoopDoctorEventSource() : base(EventSourceSettings.EtwManifestEventFormat)
    {
    }

    internal sealed record AgentDescription(string Version, string Mode);

    [NonEvent]  // without it EventSource takes this method for an event with implicit ID 1, clashing with AgentStarted: the source never enables
    internal void SetAgent(AgentDescription? agent)
    {
        _agent = agent;
        if (agent is not null && IsEnabled())
        {
            AgentStarted(agent.Version, agent.Mode, Environment.ProcessId);
        }
    }

    protected override void OnEventCommand(EventCommandEventArgs command)
    {
        // Written when a listener enables the source (not only at agent start), so a late attacher sees it too.
        if (command.Command == EventCommand.Enable && _agent is { } agent)
        {
            AgentStarted(agent.Version, agent.Mode, Environment.ProcessId);
        }
    }

    [Event((int)AgentEventId.AgentStarted, Level = EventLevel.Informational, Keywords = Keywords.Lifecycle, Message = "LoopDoctor agent {0} running ({1}) in process {2}")]
    public void AgentStarted(string version, string mode, int processId) => WriteEvent((int)AgentEventId.AgentStarted, version, mode, processId);

    [Event((int)AgentEventId.QueueDelaySpike, Level = EventLevel.Warning, Keywords = Keywords.Lag, Message = "Thread-pool queue delay {0} µs exceeded {1} µs")]
    public void QueueDelaySpike(long delayMicroseconds, long thresholdMicroseconds)
    {
        if (IsEnabled(EventLevel.Warning, Keywords.Lag))
        {
            WriteEvent((int)AgentEventId.QueueDelaySpike, delayMicroseconds, thresholdMicroseconds);
        }
    }

    [Event((int)AgentEventId.TimerLagSpike, Level = EventLevel.Warning, Keywords = Keywords.Lag, Message = "Timer lag {0} µs exceeded {1} µs")]
    public void TimerLagSpike(long lagMicroseconds, long thresholdMicroseconds)
    {
        if (IsEnabled(EventLevel.Warning, Keywords.Lag))
        {
            WriteEvent((int)AgentEventId.TimerLagSpike, lagMicroseconds, thresholdMicroseconds);
        }
    }

    [Event((int)AgentEventId.UnobservedTaskException, Level = EventLevel.Warning, Keywords = Keywords.Exceptions, Message = "Unobserved task exception {0}")]
    public void UnobservedTaskException(string exceptionType, string stackTrace, string message)
    {
        if (IsEnabled(EventLevel.Warning, Keywords.Exceptions))
        {
            WriteEvent((int)AgentEventId.UnobservedTaskException, exceptionType, stackTrace, message);
        }
    }

    [Event((int)AgentEventId.EndpointMatched, Level = EventLevel.Informational, Keywords = Keywords.Requests, Message = "Endpoint {1} ({0}) matched")]
    public void EndpointMatched(string routePattern, string displayName)
    {
        if (IsEnabled(EventLevel.Informational, Keywords.Requests))
        {
            WriteEvent((int)AgentEventId.EndpointMatched, routePattern, displayName);
        }
    }

    [Event((int)AgentEventId.AgentMessage, Level = EventLevel.Warning, Keywords = Keywords.Lifecycle, Message = "{0}")]
    public void AgentMessage(string message)
    {
        if (IsEnabled(EventLevel.Warning, Keywords.Lifecycle))
        {
            WriteEvent((int)AgentEventId.AgentMessage, message);
        }
    }
}
