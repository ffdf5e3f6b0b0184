using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Projections;

/// <summary>
/// Contended lock acquisitions: ContentionStop's <c>DurationNs</c> (the time a thread waited for a contended
/// Monitor/Lock), on every thread, split by who took the lock (<see cref="LockTaker"/>): application code by the taking
/// call site; framework code (a task wait's machinery, HttpClient's pool) by the application call site that called into
/// the framework, under the framework API; and those whose taker did not resolve.
/// Runtime events: https://learn.microsoft.com/dotnet/fundamentals/diagnostics/runtime-contention-events
/// </summary>
internal sealed class LockContentions(int callSiteDepth, IRequestLookup? requests = null) : IProjection
{
    private readonly Dictionary<int, ContentionStarted> _open = [];
    private readonly Dictionary<string, FrameworkLockTotal> _framework = [];

    /// <summary>Locks taken by application code, by thread and call site (the first frame is the one that took the lock).</summary>
    public CallSiteTotals Application { get; } = new();

    /// <summary>Locks taken inside framework code, by framework API, taking frame and application call site; most time first.</summary>
    public IReadOnlyList<FrameworkLock> Framework => _framework.Values
        .OrderByDescending(t => t.TotalMs)
        .Select(t => new FrameworkLock(t.Api, t.LockTakenIn, t.Frames, t.Count, Math.Round(t.TotalMs, 3), Math.Round(t.MaxMs, 3)))
        .ToList();

    /// <summary>Contentions whose lock-taking frame did not resolve: counted, never attributed.</summary>
    public long UnknownCount { get; private set; }

    /// <summary>Time spent in <see cref="UnknownCount"/> contentions (ms).</summary>
    public double UnknownTotalMs { get; private set; }

    public void Observe(Signal signal)
    {
        switch (signal)
        {
            case ContentionStarted started:
                _open[started.ThreadId] = started;
                break;
            case ContentionStopped stop:
                _open.Remove(stop.ThreadId, out var start);
                // The stop event's stack is taken at the same place; fall back to the start's when it tells more.
                var stack = stop.Stack.LockTaker.Kind != LockTakerKind.Unknown || start is null ? stop.Stack : start.Stack;
                var taker = stack.LockTaker;
                switch (taker.Kind)
                {
                    case LockTakerKind.Application:
                        Application.Add(stop.ThreadId, Attribution.Of(stack, callSiteDepth, requests, stop.ThreadId, stop.TimestampMs - stop.DurationMs), CallStack.LockApi, stop.DurationMs);
                        break;
                    case LockTakerKind.Framework:
                        AddFramework(taker.FrameworkApi!, LockTaker.ShortName(taker.Frame!), stack.CallSite(callSiteDepth), stop.DurationMs);
                        break;
                    default:
                        UnknownCount++;
                        UnknownTotalMs += stop.DurationMs;
                        break;
                }

                break;
        }
    }

    private void AddFramework(string api, string lockTakenIn, IReadOnlyList<string> frames, double durationMs)
    {
        var key = api + "|" + lockTakenIn + "|" + string.Join('|', frames);
        if (!_framework.TryGetValue(key, out var total))
        {
            // Bounded as CallSiteTotals is: past the cap, new call sites share one entry per API.
            if (_framework.Count >= CallSiteTotals.MaxEntries)
            {
                frames = [CallSiteTotals.OtherCallSites];
                key = api + "|" + lockTakenIn + "|" + CallSiteTotals.OtherCallSites;
            }

            if (!_framework.TryGetValue(key, out total))
            {
                total = new FrameworkLockTotal(api, lockTakenIn, frames);
                _framework.Add(key, total);
            }
        }

        total.Count++;
        total.TotalMs += durationMs;
        total.MaxMs = Math.Max(total.MaxMs, durationMs);
    }

    private sealed class FrameworkLockTotal(string api, string lockTakenIn, IReadOnlyList<string> frames)
    {
        public string Api { get; } = api;
        public string LockTakenIn { get; } = lockTakenIn;
        public IReadOnlyList<string> Frames { get; } = frames;
        public long Count { get; set; }
        public double TotalMs { get; set; }
        public double MaxMs { get; set; }
    }
}
