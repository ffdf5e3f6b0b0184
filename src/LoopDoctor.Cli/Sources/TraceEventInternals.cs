using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.InteropServices;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Etlx;

namespace LoopDoctor.Cli.Sources;

/// <summary>
/// Every use of TraceEvent's non-public members, in one place, written against <see cref="WrittenFor"/>; a TraceEvent
/// update must re-check each one (TraceEventInternalsTests fails until <see cref="WrittenFor"/> is bumped).
/// <list type="bullet">
/// <item>An EventPipe event's return addresses: TraceEvent 4.0 has no public API for them outside TraceLog (which converts
/// a whole file to .etlx first, P6 in docs/benchmarks.md). EventPipeEventSource puts each event's stack into its
/// ETW-shaped EVENT_RECORD (the private <c>eventRecord</c> field) as an EVENT_HEADER_EXT_TYPE_STACK_TRACE64
/// extended-data item; field offsets come from TraceEvent's own struct definitions at startup, not hard-coded.
/// Layout: https://learn.microsoft.com/windows/win32/api/evntcons/ns-evntcons-event_record and
/// https://learn.microsoft.com/windows/win32/api/evntcons/ns-evntcons-event_header_extended_data_item</item>
/// <item>The events a live TraceLog's session lost: TraceLog keeps its EventPipeEventSource, which counts the gaps in
/// EventPipe's sequence numbers, in the private <c>rawEventSourceToConvert</c>; TraceLog's own EventsLost stays 0 in
/// real time (measured, TraceEvent 4.0.0: a 1 MB buffer under a flood lost 3/4 of the waits and it said 0).</item>
/// </list>
/// Each falls back when its member is missing: stacks through TraceLog (<see cref="CanReadStackAddresses"/> false),
/// lost events from the public counts.
/// </summary>
internal static unsafe class TraceEventInternals
{
    /// <summary>The TraceEvent assembly version these internals were read from.</summary>
    public static readonly Version WrittenFor = new(4, 0, 0, 0);

    private const ushort StackTrace64 = 6; // EVENT_HEADER_EXT_TYPE_STACK_TRACE64: { ulong MatchId; ulong Address[]; }

    private static readonly Func<TraceEvent, IntPtr>? RecordOf;
    private static readonly int ExtendedDataCountOffset, ExtendedDataOffset, ItemSize, ExtTypeOffset, DataSizeOffset, DataPtrOffset;
    private static readonly FieldInfo? RawEventSourceField =
        typeof(TraceLog).GetField("rawEventSourceToConvert", BindingFlags.Instance | BindingFlags.NonPublic);
    private static readonly List<string> Missing = [];

    static TraceEventInternals()
    {
        if (RawEventSourceField is null || !typeof(TraceEventSource).IsAssignableFrom(RawEventSourceField.FieldType))
        {
            Missing.Add("TraceLog.rawEventSourceToConvert (a TraceEventSource)");
        }

        try
        {
            var assembly = typeof(TraceEvent).Assembly;
            var record = assembly.GetType("Microsoft.Diagnostics.Tracing.TraceEventNativeMethods+EVENT_RECORD");
            var item = assembly.GetType("Microsoft.Diagnostics.Tracing.TraceEventNativeMethods+EVENT_HEADER_EXTENDED_DATA_ITEM");
            var field = typeof(TraceEvent).GetField("eventRecord", BindingFlags.Instance | BindingFlags.NonPublic);
            if (record is null || item is null || field is null || !field.FieldType.IsPointer)
            {
                Missing.Add("TraceEventNativeMethods.EVENT_RECORD, EVENT_HEADER_EXTENDED_DATA_ITEM and TraceEvent.eventRecord (a pointer)");
                return;
            }

            ExtendedDataCountOffset = (int)Marshal.OffsetOf(record, "ExtendedDataCount");
            ExtendedDataOffset = (int)Marshal.OffsetOf(record, "ExtendedData");
            ItemSize = Marshal.SizeOf(item);
            ExtTypeOffset = (int)Marshal.OffsetOf(item, "ExtType");
            DataSizeOffset = (int)Marshal.OffsetOf(item, "DataSize");
            DataPtrOffset = (int)Marshal.OffsetOf(item, "DataPtr");

            // A field read compiled once: reflection's GetValue boxes a Pointer per call, far too slow per event.
            var method = new DynamicMethod("LoopDoctor_EventRecordOf", typeof(IntPtr), [typeof(TraceEvent)], typeof(TraceEvent).Module, skipVisibility: true);
            var il = method.GetILGenerator();
            il.Emit(OpCodes.Ldarg_0);
            il.Emit(OpCodes.Ldfld, field);
            il.Emit(OpCodes.Conv_I);
            il.Emit(OpCodes.Ret);
            RecordOf = method.CreateDelegate<Func<TraceEvent, IntPtr>>();
        }
        catch (Exception ex) when (ex is ArgumentException or MemberAccessException or InvalidOperationException or NotSupportedException or TypeLoadException)
        {
            RecordOf = null;
            Missing.Add($"the EVENT_RECORD layout ({ex.GetType().Name}: {ex.Message})");
        }
    }

    /// <summary>The TraceEvent assembly version loaded.</summary>
    public static Version? LoadedVersion => typeof(TraceEvent).Assembly.GetName().Version;

    /// <summary>The internals this TraceEvent lacks (empty when every one was found).</summary>
    public static IReadOnlyList<string> MissingMembers => Missing;

    /// <summary>False when event records cannot be read: then stacks come through TraceLog.</summary>
    public static bool CanReadStackAddresses => RecordOf is not null;

    /// <summary>The event's stack, innermost frame first; empty when it has none. Valid only inside the event's callback.</summary>
    public static ReadOnlySpan<ulong> StackAddressesOf(TraceEvent e)
    {
        if (RecordOf is null)
        {
            return default;
        }

        var record = (byte*)RecordOf(e);
        if (record is null)
        {
            return default;
        }

        int count = *(ushort*)(record + ExtendedDataCountOffset);
        var items = *(byte**)(record + ExtendedDataOffset);
        for (var i = 0; i < count && items is not null; i++)
        {
            var itemPtr = items + (i * ItemSize);
            if (*(ushort*)(itemPtr + ExtTypeOffset) != StackTrace64)
            {
                continue;
            }

            int size = *(ushort*)(itemPtr + DataSizeOffset);
            var data = (byte*)*(ulong*)(itemPtr + DataPtrOffset);
            var frames = (size - sizeof(ulong)) / sizeof(ulong);
            return frames > 0 && data is not null ? new ReadOnlySpan<ulong>(data + sizeof(ulong), frames) : default;
        }

        return default;
    }

    /// <summary>The events lost as counted by the EventPipeEventSource a live TraceLog reads from; 0 when unknown.</summary>
    public static long EventsLostByRawSource(TraceLog? log) =>
        log is not null && RawEventSourceField?.GetValue(log) is TraceEventSource raw ? raw.EventsLost : 0;

    /// <summary>Events the runtime dropped for a live session: the largest of the counts TraceEvent keeps.</summary>
    public static long EventsLost(TraceLogEventSource source)
    {
        try
        {
            var log = source.TraceLog;
            return Math.Max(Math.Max(source.EventsLost, log?.EventsLost ?? 0), EventsLostByRawSource(log));
        }
        catch (Exception ex) when (ex is ObjectDisposedException or InvalidOperationException or TargetException or FieldAccessException)
        {
            return 0;
        }
    }
}
