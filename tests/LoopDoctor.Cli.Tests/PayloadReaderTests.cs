using System.Text;
using LoopDoctor.Agent.Diagnostics;
using LoopDoctor.Cli.Sources;
using LoopDoctor.Cli.Sources.Decoders;

namespace LoopDoctor.Cli.Tests;

public class PayloadReaderTests
{
    [Fact]
    public void Reads_utf16_strings_and_little_endian_integers_in_order_and_stops_safely_at_the_end()
    {
        var bytes = new List<byte>();
        bytes.AddRange(Encoding.Unicode.GetBytes("1.2.3\0Injected\0"));
        bytes.AddRange(BitConverter.GetBytes(4242));
        bytes.AddRange(BitConverter.GetBytes(123456789012L));
        var reader = new PayloadReader(bytes.ToArray());
        Assert.Equal("1.2.3", reader.ReadString());
        Assert.Equal("Injected", reader.ReadString());
        Assert.Equal(4242, reader.ReadInt32());
        Assert.Equal(123456789012L, reader.ReadInt64());
        Assert.Equal("", reader.ReadString());
        Assert.Equal(0, reader.ReadInt64());
    }
}

public class AgentEventShapeTests
{
    private static byte[] Payload(params object[] fields)
    {
        var bytes = new List<byte>();
        foreach (var field in fields)
        {
            bytes.AddRange(field switch
            {
                string s => Encoding.Unicode.GetBytes(s + "\0"),
                int i => BitConverter.GetBytes(i),
                long l => BitConverter.GetBytes(l),
                _ => throw new ArgumentException("field"),
            });
        }

        return bytes.ToArray();
    }

    [Fact]
    public void Self_describing_agent_events_are_recognized_by_their_payload_shape()
    {
        Assert.Equal(AgentEventId.AgentStarted, AgentEventDecoder.InferFromPayloadShape(Payload("0.1.0", "Injected", 4242)));
        Assert.Equal(AgentEventId.UnobservedTaskException, AgentEventDecoder.InferFromPayloadShape(Payload("System.InvalidOperationException", "   at A.B()", "")));
        Assert.Null(AgentEventDecoder.InferFromPayloadShape(Payload(250_000L, 100_000L)));
    }
}
