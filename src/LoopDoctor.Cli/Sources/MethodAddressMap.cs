using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace LoopDoctor.Cli.Sources;

/// <summary>
/// Code address → method name, from the runtime's method events in a trace: MethodLoadVerbose for methods compiled while
/// it was recorded, and the rundown's MethodDCStartVerbose/MethodDCStopVerbose for everything compiled before (the
/// rundown comes at the end of a .nettrace, which is why stacks are resolved only after the whole file is read).
/// Events: https://learn.microsoft.com/dotnet/fundamentals/diagnostics/runtime-method-events
/// </summary>
internal sealed class MethodAddressMap
{
    private readonly List<(ulong Start, ulong End, string Name)> _pending = [];
    private (ulong Start, ulong End, string Name)[] _sorted = [];
    private bool _dirty;

    public int Count => _pending.Count;

    public void Add(MethodLoadUnloadVerboseTraceData e)
    {
        if (e.MethodSize <= 0 || e.MethodStartAddress == 0)
        {
            return;
        }

        var name = string.IsNullOrEmpty(e.MethodNamespace) ? e.MethodName : e.MethodNamespace + "." + e.MethodName;
        Add(e.MethodStartAddress, (ulong)e.MethodSize, name);
    }

    public void Add(ulong start, ulong size, string name)
    {
        _pending.Add((start, start + size, name));
        _dirty = true;
    }

    /// <summary>The method whose code contains <paramref name="address"/>, or null.</summary>
    public string? Find(ulong address)
    {
        if (_dirty)
        {
            // Later events win for an address range reused after an unload: OrderBy is a stable sort, so it keeps their order.
            _sorted = _pending.OrderBy(m => m.Start).ToArray();
            _dirty = false;
        }

        int lo = 0, hi = _sorted.Length - 1, found = -1;
        while (lo <= hi)
        {
            var mid = lo + ((hi - lo) / 2);
            if (_sorted[mid].Start <= address)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        // Ranges rarely nest (a method unloaded and its memory reused); look back a little for one that contains it.
        for (var i = found; i >= 0 && i > found - 4; i--)
        {
            if (address >= _sorted[i].Start && address < _sorted[i].End)
            {
                return _sorted[i].Name;
            }
        }

        return null;
    }
}
