using System.Diagnostics;
using Microsoft.Diagnostics.Tracing;

namespace LoopDoctor.Cli.Sources;

/// <summary>
/// Where one EventPipe session's timestamps start on the target's monotonic clock. Each session's timestamps count from
/// its own start (TraceEvent's SessionStartTime stays unset in real time), so a second session's events are shifted onto
/// the main session's clock by the difference of the two starts, read from each session's first event.
/// </summary>
internal sealed class SessionClock
{
    private double _startMs = double.NaN;

    /// <summary>A clock set by the first event of <paramref name="source"/>.</summary>
    public static SessionClock Of(TraceEventDispatcher source)
    {
        var clock = new SessionClock();
        source.AllEvents += clock.Observe;
        return clock;
    }

    /// <summary>A clock whose session started at <paramref name="startMs"/> (ms of the monotonic clock).</summary>
    public static SessionClock StartingAt(double startMs) => new() { _startMs = startMs };

    /// <summary>The session's start in ms of the target's monotonic clock; NaN until its first event.</summary>
    public double StartMs => Volatile.Read(ref _startMs);

    /// <summary>What to add to this session's timestamps to put them on <paramref name="main"/>'s clock; null until both are known.</summary>
    public double? ShiftOnto(SessionClock main) =>
        double.IsNaN(StartMs) || double.IsNaN(main.StartMs) ? null : StartMs - main.StartMs;

    private void Observe(TraceEvent e)
    {
        if (double.IsNaN(_startMs))
        {
            Volatile.Write(ref _startMs, StartOf(e));
        }
    }

    /// <summary>
    /// The event's raw timestamp less its session-relative one. EventPipe's timestamps are the runtime's high-resolution
    /// clock, which has Stopwatch's frequency on this machine.
    /// </summary>
#pragma warning disable CS0618 // TimeStampQPC is "discouraged", not obsolete: the raw clock is exactly what two sessions share.
    private static double StartOf(TraceEvent e) => e.TimeStampQPC * 1000.0 / Stopwatch.Frequency - e.TimeStampRelativeMSec;
#pragma warning restore CS0618
}
