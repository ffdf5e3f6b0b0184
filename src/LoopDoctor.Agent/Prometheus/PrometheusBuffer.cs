using System.Buffers;

namespace LoopDoctor.Agent.Prometheus;

/// <summary>
/// A growable byte buffer reused across scrapes. Unlike <see cref="ArrayBufferWriter{T}"/> it lets the serializer
/// read back what it already wrote (label-name de-duplication compares earlier bytes), and it can be rewound.
/// </summary>
internal sealed class PrometheusBuffer : IBufferWriter<byte>
{
    // Above this a scrape is pathological (cardinality explosion); fail it rather than grow without bound.
    internal const int MaxCapacity = 64 * 1024 * 1024;

    private byte[] _buffer;
    private int _length;

    public PrometheusBuffer(int initialCapacity = 16 * 1024)
    {
        _buffer = new byte[initialCapacity];
    }

    public int Length => _length;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _length);

    public void Clear() => _length = 0;

    /// <summary>Drops everything written after <paramref name="length"/>.</summary>
    public void Truncate(int length) => _length = length;

    public void Advance(int count) => _length += count;

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        EnsureCapacity(Math.Max(sizeHint, 1));
        return _buffer.AsSpan(_length);
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        EnsureCapacity(Math.Max(sizeHint, 1));
        return _buffer.AsMemory(_length);
    }

    public void Write(byte value)
    {
        EnsureCapacity(1);
        _buffer[_length++] = value;
    }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        EnsureCapacity(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_length));
        _length += bytes.Length;
    }

    private void EnsureCapacity(int additional)
    {
        if (_buffer.Length - _length >= additional)
        {
            return;
        }

        var needed = (long)_length + additional;
        if (needed > MaxCapacity)
        {
            throw new InvalidOperationException($"Prometheus exposition exceeds {MaxCapacity / (1024 * 1024)} MiB; too many series.");
        }

        var newSize = (int)Math.Min(MaxCapacity, Math.Max(needed, (long)_buffer.Length * 2));
        Array.Resize(ref _buffer, newSize);
    }
}
