using System.Buffers.Binary;
using System.Text;

namespace LoopDoctor.Cli.Sources;

/// <summary>
/// Reads an EventSource payload from its raw bytes: under TraceLog, EventSource events arrive without their metadata
/// (no payload names), so fields are read in declaration order. Strings are NUL-terminated UTF-16LE; integers little-endian.
/// Past the end, reads return empty values instead of throwing (an older agent may send fewer fields).
/// </summary>
internal ref struct PayloadReader(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private int _offset;

    public string ReadString()
    {
        var start = _offset;
        while (_offset + 1 < _data.Length && (_data[_offset] != 0 || _data[_offset + 1] != 0))
        {
            _offset += 2;
        }

        var text = Encoding.Unicode.GetString(_data[start..Math.Min(_offset, _data.Length)]);
        _offset = Math.Min(_offset + 2, _data.Length);
        return text;
    }

    public void SkipString() => ReadString();

    /// <summary>Bytes not read yet.</summary>
    public readonly int Remaining => _data.Length - _offset;

    public int ReadInt32()
    {
        if (_offset + 4 > _data.Length)
        {
            _offset = _data.Length;
            return 0;
        }

        var value = BinaryPrimitives.ReadInt32LittleEndian(_data[_offset..]);
        _offset += 4;
        return value;
    }

    public long ReadInt64()
    {
        if (_offset + 8 > _data.Length)
        {
            _offset = _data.Length;
            return 0;
        }

        var value = BinaryPrimitives.ReadInt64LittleEndian(_data[_offset..]);
        _offset += 8;
        return value;
    }
}
