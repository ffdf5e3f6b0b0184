using LoopDoctor.Cli.Signals;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Etlx;

namespace LoopDoctor.Cli.Sources.Stacks;

/// <summary>
/// Stacks named by TraceLog as events arrive (a live session, or a trace converted to .etlx). Stacks repeat (a sampled
/// idle thread has the same one every millisecond), so they are cached by call-stack index, and the cache is forgotten
/// every second of trace time because methods compiled later name frames that were bare addresses before.
/// </summary>
internal sealed class TraceLogStackResolver : IStackResolver
{
    private readonly Dictionary<CallStackIndex, CallStack> _stacks = [];
    private double _stacksClearedAtMs;
    private bool _trimUnsupported;

    /// <summary>How many times the live TraceLog's interned stacks were dropped (once a second of trace time).</summary>
    public int StackTrims { get; private set; }

    public CallStack StackOf(TraceEvent e)
    {
        var index = e.CallStackIndex();
        if (index == CallStackIndex.Invalid)
        {
            return CallStack.Empty;
        }

        if (e.TimeStampRelativeMSec - _stacksClearedAtMs > 1000)
        {
            // This event's stack is resolved first: the trim below reissues call-stack indexes, this one's included.
            var current = Resolve(e);
            _stacks.Clear();
            _stacksClearedAtMs = e.TimeStampRelativeMSec;
            TrimInternedStacks(e);
            return current;
        }

        if (_stacks.TryGetValue(index, out var cached))
        {
            return cached;
        }

        var stack = Resolve(e);
        _stacks[index] = stack;
        return stack;
    }

    /// <summary>
    /// A live TraceLog interns every distinct stack it sees and never forgets one (microsoft/perfview#2451): under a
    /// sampling profiler its tables grow all session long (measured on BlockingApp: 800–2,000 new stacks a second, each a
    /// node plus a callee list, kept in gen2 with arrays that double). With nothing keyed by a call-stack index left (the
    /// cache is empty, this event's stack is resolved), TrimLiveSessionState (microsoft/perfview#2452) drops them; it must
    /// run on the dispatching thread, inside a callback, which is where we are. Method names are kept.
    /// </summary>
    private void TrimInternedStacks(TraceEvent e)
    {
        if (_trimUnsupported || e.Source is not TraceLog { IsRealTime: true } log)
        {
            return;
        }

        try
        {
            log.TrimLiveSessionState();
            StackTrims++;
        }
        catch (Exception ex) when (ex is InvalidOperationException or NotSupportedException)
        {
            // Refused (a TraceEvent that checks its contract differently): keep the session, grow as before.
            _trimUnsupported = true;
        }
    }

    private static CallStack Resolve(TraceEvent e)
    {
        var frames = new List<string?>();
        for (var frame = e.CallStack(); frame is not null; frame = frame.Caller)
        {
            var name = frame.CodeAddress.FullMethodName;
            var normalized = string.IsNullOrEmpty(name) ? null : CallStack.NormalizeMethodName(name);
            // One entry per run of unnamed addresses (null) or per method (a method's frames repeat in recursion).
            if (frames.Count == 0 || frames[^1] != normalized)
            {
                frames.Add(normalized);
            }
        }

        return new CallStack(frames);
    }
}
