using System.Diagnostics;
using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Sources;

/// <summary>
/// The moments loopdoctor itself spends attaching: the method rundowns that name stacks (and the agent's injection) hold
/// the target's JIT and code-version locks, so a work item or timer that needs them waits. The agent's probes delayed then
/// measure loopdoctor, not the app (up to ~240 ms of one probe on a loaded 2-core machine, docs/cli.md): their spike events
/// are left out, as the first interval of each histogram is, and the log says how many.
/// </summary>
internal sealed class AttachWindow(SessionClock mainClock)
{
    private readonly object _lock = new();
    private double _endMs = double.PositiveInfinity;
    private int _leftOut;
    private double _longestMs;

    /// <summary>How many spike events were left out, and the longest of them (ms).</summary>
    public (int Count, double LongestMs) LeftOut
    {
        get
        {
            lock (_lock)
            {
                return (_leftOut, _longestMs);
            }
        }
    }

    /// <summary>Whether <paramref name="signal"/> is the app's: false for a spike event whose probe was waiting while loopdoctor attached.</summary>
    public bool Admits(Signal signal)
    {
        var (startMs, waitedMs) = signal switch
        {
            QueueDelaySpike spike => (spike.TimestampMs - spike.DelayMs, spike.DelayMs),
            TimerLagSpike spike => (spike.TimestampMs - spike.LagMs, spike.LagMs),
            _ => (double.NaN, 0),
        };
        if (double.IsNaN(startMs))
        {
            return true;
        }

        lock (_lock)
        {
            // Before Settle every probe started during the attach; the clock is set by the session's first event.
            if (!double.IsNaN(mainClock.StartMs) && startMs + mainClock.StartMs >= _endMs)
            {
                return true;
            }

            _leftOut++;
            _longestMs = Math.Max(_longestMs, waitedMs);
            return false;
        }
    }

    /// <summary>The attach's own work is done: probes that start from now on are the app's.</summary>
    public void Settle() => Settle(Stopwatch.GetTimestamp() * 1000.0 / Stopwatch.Frequency);

    /// <summary>The attach's own work ended at <paramref name="endMs"/> (ms of the monotonic clock the session's timestamps use).</summary>
    public void Settle(double endMs)
    {
        lock (_lock)
        {
            _endMs = endMs;
        }
    }
}
