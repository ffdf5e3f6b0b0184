using System.Buffers.Binary;
using LoopDoctor.Cli.Fleet;

namespace LoopDoctor.Cli.Tests.Fleet;

/// <summary>The runtime's reverse-connect announcement (ipc-protocol.md, "Advertise protocol"); the real one is exercised by FleetMonitorTests.</summary>
public sealed class RuntimeAdvertisementTests
{
    private static byte[] Advertisement(string magic, Guid cookie, ulong pid)
    {
        var bytes = new byte[RuntimeAdvertisement.Size];
        System.Text.Encoding.ASCII.GetBytes(magic).CopyTo(bytes, 0);
        cookie.TryWriteBytes(bytes.AsSpan(8, 16));
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(24, 8), pid);
        return bytes;
    }

    [Fact]
    public void A_runtimes_announcement_gives_its_cookie_and_pid()
    {
        var cookie = Guid.NewGuid();
        Assert.Equal(new RuntimeAdvertisement(cookie, 4242), RuntimeAdvertisement.TryParse(Advertisement("ADVR_V1\0", cookie, 4242)));
    }

    [Theory]
    [InlineData("ADVR_V2\0", 4242UL)]
    [InlineData("DOTNET_I", 4242UL)]
    [InlineData("ADVR_V1\0", 0UL)]
    [InlineData("ADVR_V1\0", (ulong)int.MaxValue + 1)]
    public void Anything_else_is_not_an_announcement(string magic, ulong pid)
        => Assert.Null(RuntimeAdvertisement.TryParse(Advertisement(magic, Guid.NewGuid(), pid)));

    [Fact]
    public void A_short_read_is_not_an_announcement()
        => Assert.Null(RuntimeAdvertisement.TryParse(Advertisement("ADVR_V1\0", Guid.NewGuid(), 1).AsSpan(0, 20)));
}
