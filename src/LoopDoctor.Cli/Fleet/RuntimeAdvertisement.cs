using System.Buffers.Binary;

namespace LoopDoctor.Cli.Fleet;

/// <summary>
/// What a runtime sends first when it connects to a listening diagnostics port (DOTNET_DiagnosticPorts=PATH,connect):
/// the 8-byte magic <c>ADVR_V1\0</c>, its instance cookie (a GUID, unique per process start) and its pid (uint64),
/// then 2 reserved bytes. Spec: dotnet/diagnostics documentation/design-docs/ipc-protocol.md, "Advertise protocol".
/// </summary>
internal readonly record struct RuntimeAdvertisement(Guid RuntimeInstanceCookie, int ProcessId)
{
    public const int Size = 8 + 16 + 8 + 2;

    private static ReadOnlySpan<byte> Magic => "ADVR_V1\0"u8;

    /// <summary>Parses the first <see cref="Size"/> bytes; null when they are not an advertisement.</summary>
    public static RuntimeAdvertisement? TryParse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < Size || !bytes[..8].SequenceEqual(Magic))
        {
            return null;
        }

        var pid = BinaryPrimitives.ReadUInt64LittleEndian(bytes.Slice(24, 8));
        return pid is 0 or > int.MaxValue ? null : new RuntimeAdvertisement(new Guid(bytes.Slice(8, 16)), (int)pid);
    }
}
