using System.Buffers.Binary;
using LoopDoctor.Cli.Signals;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Session;

namespace LoopDoctor.Cli.Sources.Decoders;

/// <summary>
/// <c>Microsoft-Diagnostics-DiagnosticSource</c>, the runtime's bridge from DiagnosticSource to EventPipe: ASP.NET Core's
/// <c>EndpointMatched</c> and MVC's <c>BeforeAction</c>, with the fields <see cref="SessionProviders.RequestMarkerSpecs"/>
/// asks for, become <see cref="RequestMarker"/>s on the thread that wrote them. The bridge's events are self-describing,
/// so their ids vary by process: they are recognised by their payload (source name, event name, arguments), read raw
/// because a live TraceLog delivers them without field names.
/// </summary>
internal sealed class DiagnosticSourceDecoder(ISignalSink sink)
{
    public const string ProviderName = "Microsoft-Diagnostics-DiagnosticSource";

    private const string AspNetCoreSource = "Microsoft.AspNetCore";
    private const string EndpointMatchedEvent = "Microsoft.AspNetCore.Routing.EndpointMatched";
    private const string BeforeActionEvent = "Microsoft.AspNetCore.Mvc.BeforeAction";

    private static readonly Guid ProviderGuid = TraceEventProviders.GetEventSourceGuidFromName(ProviderName);

    public static bool Owns(TraceEvent e) => e.ProviderGuid == ProviderGuid || e.ProviderName == ProviderName;

    public void Decode(TraceEvent e)
    {
        if (Read(e.EventData()) is not var (eventName, arguments))
        {
            return;
        }

        string? Arg(string key) => arguments.TryGetValue(key, out var value) && value.Length > 0 ? value : null;
        var kind = eventName switch
        {
            EndpointMatchedEvent => RequestMarkerKind.EndpointMatched,
            BeforeActionEvent => RequestMarkerKind.BeforeAction,
            _ => (RequestMarkerKind?)null,
        };
        if (kind is { } k)
        {
            sink.Add(new RequestMarker(e.TimeStampRelativeMSec, e.ThreadID, k, Arg("Method"), Arg("Path"), Arg("Action"), Arg("Route")));
        }
    }

    /// <summary>
    /// The event name and arguments of a bridge <c>Event</c> from Microsoft.AspNetCore: two NUL-terminated UTF-16
    /// strings (source, event) and a count-prefixed (UInt16) list of key/value string pairs. Null for anything else.
    /// </summary>
    internal static (string EventName, Dictionary<string, string> Arguments)? Read(ReadOnlySpan<byte> data)
    {
        var payload = new PayloadReader(data);
        if (payload.ReadString() != AspNetCoreSource)
        {
            return null;
        }

        var eventName = payload.ReadString();
        var arguments = new Dictionary<string, string>(StringComparer.Ordinal);
        var rest = data[(data.Length - payload.Remaining)..];
        if (rest.Length < 2)
        {
            return (eventName, arguments);
        }

        int count = BinaryPrimitives.ReadUInt16LittleEndian(rest);
        var pairs = new PayloadReader(rest[2..]);
        for (var i = 0; i < count && pairs.Remaining > 0; i++)
        {
            var key = pairs.ReadString();
            arguments[key] = pairs.ReadString();
        }

        return (eventName, arguments);
    }
}
