using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.InteropServices;
using Microsoft.Diagnostics.Tracing;

namespace LoopDoctor.Cli.Sessions;

/// <summary>
/// The return addresses an EventPipe event carries, read straight from the event as <see cref="EventPipeEventSource"/>
/// delivers it. TraceEvent 4.0 has no public API for them outside TraceLog (which converts the whole file to .etlx
/// first, P6 in docs/benchmarks.md): EventPipeEventSource puts each event's stack into its ETW-shaped EVENT_RECORD as an
/// EVENT_HEADER_EXT_TYPE_STACK_TRACE64 extended-data item, so we read that record, with field offsets taken from
/// TraceEvent's own struct definitions at startup (not hard-coded), and report <see cref="IsAvailable"/> false if a
/// TraceEvent update changes any of it: then the caller falls back to TraceLog.
/// Layout: https://learn.microsoft.com/windows/win32/api/evntcons/ns-evntcons-event_record and
/// https://learn.microsoft.com/windows/win32/api/evntcons/ns-evntcons-event_header_extended_data_item
/// </summary>
internal static unsafe class EventStackReader
{
    private const ushort StackTrace64 = 6; // EVENT_HEADER_EXT_TYPE_STACK_TRACE64: { ulong MatchId; ulong Address[]; }

    private static readonly Func<TraceEvent, IntPtr>? RecordOf;
    private static readonly int ExtendedDataCountOffset, ExtendedDataOffset, ItemSize, ExtTypeOffset, DataSizeOffset, DataPtrOffset;

    static EventStackReader()
    {
        try
        {
            var assembly = typeof(TraceEvent).Assembly;
            var record = assembly.GetType("Microsoft.Diagnostics.Tracing.TraceEventNativeMethods+EVENT_RECORD");
            var item = assembly.GetType("Microsoft.Diagnostics.Tracing.TraceEventNativeMethods+EVENT_HEADER_EXTENDED_DATA_ITEM");
            var field = typeof(TraceEvent).GetField("eventRecord", BindingFlags.Instance | BindingFlags.NonPublic);
            if (record is null || item is null || field is null || !field.FieldType.IsPointer)
            {
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
        }
    }

    /// <summary>False when this TraceEvent's internals are not the ones this reader was written against.</summary>
    public static bool IsAvailable => RecordOf is not null;

    /// <summary>The event's stack, innermost frame first; empty when it has none. Valid only inside the event's callback.</summary>
    public static ReadOnlySpan<ulong> AddressesOf(TraceEvent e)
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
}
