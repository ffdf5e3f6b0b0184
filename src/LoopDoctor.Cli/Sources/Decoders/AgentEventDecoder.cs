using LoopDoctor.Agent.Diagnostics;
using LoopDoctor.Cli.Signals;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Session;

namespace LoopDoctor.Cli.Sources.Decoders;

/// <summary>
/// <c>LoopDoctor-Agent</c> (<see cref="LoopDoctorEventSource"/>): each event the agent writes becomes its signal;
/// <see cref="AgentEventId.AgentMessage"/> (the agent's own warnings) becomes none. Payloads are read in declaration
/// order: a live TraceLog delivers them without names.
/// </summary>
internal sealed class AgentEventDecoder(ISignalSink sink)
{
    private static readonly Guid ProviderGuid = TraceEventProviders.GetEventSourceGuidFromName(LoopDoctorEventSource.SourceName);

    public static bool Owns(TraceEvent e) => e.ProviderGuid == ProviderGuid || e.ProviderName == LoopDoctorEventSource.SourceName;

    public void Decode(TraceEvent e)
    {
        try
        {
            var data = e.EventData();
            var payload = new PayloadReader(data);
            var t = e.TimeStampRelativeMSec;
            switch (Identify(e.EventName, (int)e.ID, data))
            {
                case AgentEventId.AgentStarted:
                    sink.Add(new AgentStarted(t, payload.ReadString(), payload.ReadString()));
                    break;
                case AgentEventId.QueueDelaySpike:
                    sink.Add(new QueueDelaySpike(t, payload.ReadInt64() / 1000.0, payload.ReadInt64() / 1000.0));
                    break;
                case AgentEventId.TimerLagSpike:
                    sink.Add(new TimerLagSpike(t, payload.ReadInt64() / 1000.0, payload.ReadInt64() / 1000.0));
                    break;
                case AgentEventId.UnobservedTaskException:
                    sink.Add(new UnobservedTaskException(t, payload.ReadString(), payload.ReadString(), payload.ReadString()));
                    break;
                case AgentEventId.EndpointMatched:
                    sink.Add(EndpointMarker(t, e.ThreadID, payload.ReadString(), payload.ReadString()));
                    break;
            }
        }
        catch (Exception ex) when (ex is InvalidCastException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException or NullReferenceException)
        {
            // A payload of another version than expected: skip the event, never the session.
        }
    }

    /// <summary>
    /// Which agent event this is: by name when the event carries its metadata; by declared id when its payload has that
    /// event's shape (this agent's manifest-based source); otherwise by payload shape alone, for an older agent whose
    /// self-describing source's events arrived with per-process metadata ids (measured: 156, 157, ...) and no names.
    /// Null when it is none of them (an older agent's two spike events cannot be told apart by shape: the histograms
    /// carry the delay).
    /// </summary>
    internal static AgentEventId? Identify(string? eventName, int id, ReadOnlySpan<byte> payload)
    {
        if (!string.IsNullOrEmpty(eventName) && !eventName.StartsWith("EventID(", StringComparison.Ordinal)
            && Enum.TryParse<AgentEventId>(eventName, ignoreCase: false, out var named) && Enum.IsDefined(named) && !char.IsAsciiDigit(eventName[0]))
        {
            return named;
        }

        var declared = (AgentEventId)id;
        return Enum.IsDefined(declared) && HasShapeOf(declared, payload) ? declared : InferFromPayloadShape(payload);
    }

    /// <summary>
    /// The agent's EndpointMatched as a request marker: a minimal API's display name is "HTTP: GET /route", which gives
    /// the method; any other display name (an MVC action's "Namespace.Controller.Action (Assembly)") names the code.
    /// </summary>
    internal static RequestMarker EndpointMarker(double timestampMs, int threadId, string routePattern, string displayName)
    {
        string? method = null, action = null;
        if (displayName.StartsWith("HTTP: ", StringComparison.Ordinal))
        {
            var rest = displayName["HTTP: ".Length..];
            var space = rest.IndexOf(' ', StringComparison.Ordinal);
            method = space > 0 ? rest[..space] : null;
        }
        else if (displayName.Length > 0)
        {
            action = displayName;
        }

        return new RequestMarker(timestampMs, threadId, RequestMarkerKind.EndpointMatched, method, null, action, routePattern.Length > 0 ? routePattern : null);
    }

    private static bool HasShapeOf(AgentEventId id, ReadOnlySpan<byte> payload) => id switch
    {
        AgentEventId.EndpointMatched => IsStrings(payload, 2),
        AgentEventId.AgentStarted => IsStringsThenInt32(payload),
        AgentEventId.QueueDelaySpike or AgentEventId.TimerLagSpike => payload.Length == 2 * sizeof(long),
        AgentEventId.UnobservedTaskException => IsStrings(payload, 3),
        AgentEventId.AgentMessage => IsStrings(payload, 1),
        _ => false,
    };

    /// <summary>AgentStarted (string, string, int32) or UnobservedTaskException (three strings) from the payload's shape; null when neither.</summary>
    internal static AgentEventId? InferFromPayloadShape(ReadOnlySpan<byte> payload)
    {
        if (IsStringsThenInt32(payload))
        {
            return AgentEventId.AgentStarted;
        }

        return IsStrings(payload, 3) && payload.Length > 6 ? AgentEventId.UnobservedTaskException : null;
    }

    // (string, string, int32): AgentStarted's version, mode and process id.
    private static bool IsStringsThenInt32(ReadOnlySpan<byte> payload)
    {
        var reader = new PayloadReader(payload);
        return SkipStrings(ref reader, 2) && reader.Remaining == sizeof(int);
    }

    private static bool IsStrings(ReadOnlySpan<byte> payload, int count)
    {
        var reader = new PayloadReader(payload);
        return SkipStrings(ref reader, count) && reader.Remaining == 0;
    }

    // False when the payload ends before a string does (each takes at least its two-byte terminator).
    private static bool SkipStrings(ref PayloadReader reader, int count)
    {
        for (var i = 0; i < count; i++)
        {
            if (reader.Remaining < 2)
            {
                return false;
            }

            reader.SkipString();
        }

        return true;
    }
}
