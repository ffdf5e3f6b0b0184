using System.Reflection;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Etlx;

namespace LoopDoctor.Cli.Sessions;

/// <summary>
/// Every use of TraceEvent's non-public members, in one place, each with a public fallback and a test
/// (TraceEventInternalsTests) that fails loudly when a TraceEvent update removes what it reads.
/// </summary>
internal static class TraceEventInternals
{
    /// <summary>
    /// TraceLog's private real-time source. In real time, TraceLog's own EventsLost stays 0 (TraceEvent 4.0.0: a 1 MB
    /// buffer under a flood lost 3/4 of the waits and it said 0); the EventPipeEventSource it reads from counts the gaps in
    /// EventPipe's per-thread sequence numbers.
    /// </summary>
    internal static readonly FieldInfo? RawEventSourceField =
        typeof(TraceLog).GetField("rawEventSourceToConvert", BindingFlags.Instance | BindingFlags.NonPublic);

    /// <summary>Events the runtime dropped for a live session: the largest of the counts TraceEvent keeps.</summary>
    public static long EventsLost(TraceLogEventSource source)
    {
        try
        {
            var log = source.TraceLog;
            var raw = RawEventSourceField?.GetValue(log) as TraceEventSource;
            return Math.Max(Math.Max(source.EventsLost, log?.EventsLost ?? 0), raw?.EventsLost ?? 0);
        }
        catch (Exception ex) when (ex is ObjectDisposedException or InvalidOperationException or TargetException or FieldAccessException)
        {
            return 0;
        }
    }
}
