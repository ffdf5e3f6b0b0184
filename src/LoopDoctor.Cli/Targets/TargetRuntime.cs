using System.Buffers.Binary;
using System.Globalization;
using System.IO.Pipes;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace LoopDoctor.Cli.Targets;

/// <summary>The runtime a target process runs, as its diagnostics server reports it (e.g. <c>9.0.5+3f0d…</c>).</summary>
internal sealed partial record TargetRuntime(string ProductVersion)
{
    /// <summary>Major.minor.patch of <see cref="ProductVersion"/>; null when it does not start with one.</summary>
    public Version? Version => VersionPrefix().Match(ProductVersion) is { Success: true } m
        ? new Version(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture))
        : null;

    /// <summary>".NET 9.0.5" for messages and reports.</summary>
    public override string ToString() => Version is { } v ? $".NET {v}" : $".NET {ProductVersion}";

    [GeneratedRegex(@"^(\d+)\.(\d+)\.(\d+)")]
    private static partial Regex VersionPrefix();

    /// <summary>
    /// Asks the target's diagnostics server for ProcessInfo2 (.NET 6+), whose last field is the runtime's product version.
    /// The diagnostics client package has no public call for it, so this speaks the documented IPC protocol itself
    /// (dotnet/diagnostics documentation/design-docs/ipc-protocol.md). Null, with <paramref name="problem"/>, when the
    /// version cannot be read: callers must then assume nothing about the runtime.
    /// </summary>
    public static TargetRuntime? TryRead(int pid, out string? problem)
    {
        try
        {
            using var stream = Connect(pid);
            stream.Write(ProcessInfo2Request());
            var header = new byte[HeaderSize];
            stream.ReadExactly(header);
            var (size, commandSet, commandId) = ParseHeader(header);
            var payload = new byte[size - HeaderSize];
            stream.ReadExactly(payload);
            if (commandSet != ServerCommandSet || commandId != OkResponse)
            {
                var hresult = payload.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(payload) : 0;
                problem = $"its diagnostics server refused ProcessInfo2 (HRESULT 0x{hresult:X8}; .NET 6 or later answers it)";
                return null;
            }

            problem = null;
            return new TargetRuntime(ParseProductVersion(payload));
        }
        catch (Exception ex) when (ex is IOException or SocketException or TimeoutException or UnauthorizedAccessException or InvalidDataException or EndOfStreamException or ArgumentOutOfRangeException)
        {
            problem = ex.Message.ReplaceLineEndings(" ").Trim();
            return null;
        }
    }

    private const int HeaderSize = 20;
    private const byte ProcessCommandSet = 0x04;
    private const byte ProcessInfo2Command = 0x04;
    private const byte ServerCommandSet = 0xFF;
    private const byte OkResponse = 0x00;
    private static readonly byte[] Magic = "DOTNET_IPC_V1\0"u8.ToArray();
    private static readonly TimeSpan IoTimeout = TimeSpan.FromSeconds(3);

    internal static byte[] ProcessInfo2Request()
    {
        var request = new byte[HeaderSize];
        Magic.CopyTo(request, 0);
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(14), HeaderSize);
        request[16] = ProcessCommandSet;
        request[17] = ProcessInfo2Command;
        return request;
    }

    internal static (int Size, byte CommandSet, byte CommandId) ParseHeader(ReadOnlySpan<byte> header)
    {
        if (!header[..Magic.Length].SequenceEqual(Magic))
        {
            throw new InvalidDataException("the diagnostics server's answer has no IPC header");
        }

        var size = BinaryPrimitives.ReadUInt16LittleEndian(header[14..]);
        if (size < HeaderSize)
        {
            throw new InvalidDataException($"the diagnostics server's answer has an invalid size ({size})");
        }

        return (size, header[16], header[17]);
    }

    /// <summary>ProcessInfo2: pid (8 bytes), runtime cookie (16), then command line, OS, architecture, entry assembly, product version.</summary>
    internal static string ParseProductVersion(ReadOnlySpan<byte> payload)
    {
        var offset = 8 + 16;
        string value = "";
        for (var field = 0; field < 5; field++)
        {
            value = ReadString(payload, ref offset);
        }

        return value;
    }

    /// <summary>An IPC string: a uint32 count of UTF-16 code units including the terminating NUL, then the code units.</summary>
    private static string ReadString(ReadOnlySpan<byte> payload, ref int offset)
    {
        if (offset + 4 > payload.Length)
        {
            throw new InvalidDataException("the ProcessInfo2 answer is cut short");
        }

        var units = BinaryPrimitives.ReadUInt32LittleEndian(payload[offset..]);
        offset += 4;
        if (units == 0)
        {
            return "";
        }

        var bytes = checked((int)units * 2);
        if (offset + bytes > payload.Length)
        {
            throw new InvalidDataException("the ProcessInfo2 answer is cut short");
        }

        var text = Encoding.Unicode.GetString(payload.Slice(offset, bytes));
        offset += bytes;
        return text.TrimEnd('\0');
    }

    private static Stream Connect(int pid)
    {
        if (OperatingSystem.IsWindows())
        {
            var pipe = new NamedPipeClientStream(".", $"dotnet-diagnostic-{pid}", PipeDirection.InOut);
            pipe.Connect(IoTimeout);
            return pipe;
        }

        var path = DiagnosticPorts.SocketPath(pid)
            ?? throw new IOException($"process {pid} publishes no diagnostics socket in {Path.GetTempPath()}");
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
        {
            ReceiveTimeout = (int)IoTimeout.TotalMilliseconds,
            SendTimeout = (int)IoTimeout.TotalMilliseconds,
        };
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
