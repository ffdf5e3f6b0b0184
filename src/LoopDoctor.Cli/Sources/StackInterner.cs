using System.Runtime.InteropServices;
using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Sources;

/// <summary>
/// Distinct stacks of a trace by their raw return addresses. Stacks repeat enormously (a sampled idle thread has the
/// same one every millisecond for minutes), so each distinct one is stored once, gets a small id and an unresolved
/// <see cref="CallStack"/>, and is named once at the end by <see cref="ResolveAll"/>.
/// </summary>
internal sealed class StackInterner : ISampleRunStacks<ReadOnlySpan<ulong>, int>
{
    private readonly List<ulong> _addresses = [];
    private readonly List<(int Offset, int Length, int Next)> _stacks = [];
    private readonly List<CallStack> _callStacks = [];
    private readonly Dictionary<int, int> _firstByHash = [];

    /// <summary>Id 0: no stack.</summary>
    public const int None = 0;

    public StackInterner()
    {
        _stacks.Add((0, 0, -1));
        _callStacks.Add(CallStack.Empty);
    }

    public int Count => _stacks.Count - 1;

    /// <summary>The id of this address sequence (innermost first), adding it when new.</summary>
    public int Intern(ReadOnlySpan<ulong> addresses)
    {
        if (addresses.IsEmpty)
        {
            return None;
        }

        var hash = Hash(addresses);
        var addressList = CollectionsMarshal.AsSpan(_addresses);
        var seen = _firstByHash.TryGetValue(hash, out var id);
        if (seen)
        {
            for (var i = id; i >= 0; i = _stacks[i].Next)
            {
                var (offset, length, _) = _stacks[i];
                if (addressList.Slice(offset, length).SequenceEqual(addresses))
                {
                    return i;
                }
            }
        }

        var newId = _stacks.Count;
        _stacks.Add((_addresses.Count, addresses.Length, seen ? id : -1));
        _firstByHash[hash] = newId;
        _addresses.AddRange(addresses);
        _callStacks.Add(CallStack.Unresolved());
        return newId;
    }

    /// <summary>True when stack <paramref name="id"/> is exactly <paramref name="addresses"/> (cheaper than interning again).</summary>
    public bool Matches(int id, ReadOnlySpan<ulong> addresses)
    {
        var (offset, length, _) = _stacks[id];
        return length == addresses.Length && CollectionsMarshal.AsSpan(_addresses).Slice(offset, length).SequenceEqual(addresses);
    }

    bool ISampleRunStacks<ReadOnlySpan<ulong>, int>.IsSameStack(int runStack, ReadOnlySpan<ulong> sample) => Matches(runStack, sample);

    int ISampleRunStacks<ReadOnlySpan<ulong>, int>.Keep(ReadOnlySpan<ulong> sample) => Intern(sample);

    /// <summary>The (until <see cref="ResolveAll"/>, unresolved) call stack of an id.</summary>
    public CallStack this[int id] => _callStacks[id];

    /// <summary>Names every distinct stack's frames from <paramref name="methods"/>; addresses outside known methods are left unnamed (null).</summary>
    public void ResolveAll(MethodAddressMap methods)
    {
        var names = new Dictionary<ulong, string?>();
        var frames = new List<string?>();
        for (var id = 1; id < _stacks.Count; id++)
        {
            var (offset, length, _) = _stacks[id];
            frames.Clear();
            for (var i = offset; i < offset + length; i++)
            {
                var address = _addresses[i];
                if (!names.TryGetValue(address, out var name))
                {
                    var raw = methods.Find(address);
                    name = raw is null ? null : CallStack.NormalizeMethodName(raw);
                    names[address] = name;
                }

                // Unnamed addresses stay as one null per run: who took a contended lock is not decided across them.
                if (frames.Count == 0 || frames[^1] != name)
                {
                    frames.Add(name);
                }
            }

            _callStacks[id].Resolve(frames.ToArray());
        }
    }

    private static int Hash(ReadOnlySpan<ulong> addresses)
    {
        var hash = new HashCode();
        hash.AddBytes(MemoryMarshal.AsBytes(addresses));
        return hash.ToHashCode();
    }
}
