using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Projections;

/// <summary>One stop of every managed thread for a GC: from the suspension's start to the restart's end.</summary>
/// <param name="SuspendingMs">How long stopping the threads took (reaching safe points), before the GC itself ran.</param>
internal sealed record GcPause(double StartMs, double EndMs, double SuspendingMs, int Generation, GcReason Reason, GcType Type, IReadOnlyList<string> InducedAt)
{
    public double DurationMs => EndMs - StartMs;

    /// <summary>A GC.Collect or a memory-pressure API asked for the collection.</summary>
    public bool IsInduced => InducedAt.Count > 0 || GcStarted.IsInducedReason(Reason);
}

/// <summary>
/// The GC's pauses over the session (GCSuspendEEBegin → GCRestartEEEnd), each with the collection that ran inside it
/// (GCStart: generation, reason, type; for an induced one the application frames that called GC.Collect), and the
/// sampled allocations by call site (GCAllocationTick, about one per 100 KB a thread allocates).
/// </summary>
internal sealed class GcPauses(int callSiteDepth) : IProjection
{
    // Pauses shorter than this are counted, not kept: a busy service collects gen0 hundreds of times a minute.
    private const double KeptFromMs = 1;
    private const int MaxKeptPauses = 100_000;
    private const int MaxAllocationSites = 4096;
    private const int MaxTypesPerSite = 64;

    private readonly List<GcPause> _pauses = [];
    private readonly Dictionary<string, AllocationSite> _allocations = [];
    private readonly List<(double StartMs, double EndMs)> _lags = [];
    private double? _suspendedAtMs;
    private int _suspendingThread;
    private double? _allStoppedAtMs;
    private GcStarted? _lastCollection;

    /// <summary>Every GC pause that ended in the session.</summary>
    public long Count { get; private set; }

    /// <summary>Time every managed thread stood still for the GC (ms).</summary>
    public double TotalMs { get; private set; }

    /// <summary>The pauses of 1 ms and longer (the first 100,000), in time order.</summary>
    public IReadOnlyList<GcPause> Pauses => _pauses;

    /// <summary>
    /// The <paramref name="max"/> longest pauses of <paramref name="thresholdMs"/> and more, in time order: what the
    /// report's timeline draws (a cap keeps the page small when a long session paused thousands of times).
    /// </summary>
    public IReadOnlyList<GcPause> LongestOver(double thresholdMs, int max) =>
        _pauses.Where(p => p.DurationMs >= thresholdMs).OrderByDescending(p => p.DurationMs).Take(max).OrderBy(p => p.StartMs).ToList();

    /// <summary>Collections started in the session.</summary>
    public long Collections { get; private set; }

    /// <summary>Whether any GC event arrived: a trace recorded without the GC keyword cannot tell GC pauses apart.</summary>
    public bool EventsSeen { get; private set; }

    /// <summary>Bytes the allocation samples stand for.</summary>
    public long AllocatedBytes { get; private set; }

    /// <summary>The call sites that allocated the most, by sampled bytes.</summary>
    public IReadOnlyList<AllocationSite> TopAllocationSites(int count) =>
        _allocations.Values.OrderByDescending(s => s.Bytes).Take(count).ToList();

    /// <summary>How much of [<paramref name="startMs"/>, <paramref name="endMs"/>] fell inside GC pauses (ms).</summary>
    public double OverlapMs(double startMs, double endMs)
    {
        // Pauses never overlap, so their ends are in order too: start at the first that ends after startMs.
        int low = 0, high = _pauses.Count;
        while (low < high)
        {
            var middle = (low + high) / 2;
            if (_pauses[middle].EndMs <= startMs)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        double overlap = 0;
        for (var i = low; i < _pauses.Count && _pauses[i].StartMs < endMs; i++)
        {
            overlap += Math.Min(endMs, _pauses[i].EndMs) - Math.Max(startMs, _pauses[i].StartMs);
        }

        if (_suspendedAtMs is { } open && open < endMs)
        {
            overlap += Math.Max(0, endMs - Math.Max(startMs, open));
        }

        return overlap;
    }

    /// <summary>
    /// The agent's lag spikes (queue delay and timer lag over its threshold) and how much of them fell inside GC pauses
    /// (ms); each spike is written when the late probe finally ran, so it covers the <c>delay</c> before its timestamp.
    /// </summary>
    public (int Spikes, double LagMs, double InsidePausesMs) LagInsidePauses()
    {
        double lag = 0, inside = 0;
        foreach (var (start, end) in _lags)
        {
            lag += end - start;
            inside += OverlapMs(start, end);
        }

        return (_lags.Count, lag, inside);
    }

    public void Observe(Signal signal)
    {
        switch (signal)
        {
            case QueueDelaySpike spike when _lags.Count < MaxKeptPauses:
                _lags.Add((spike.TimestampMs - spike.DelayMs, spike.TimestampMs));
                break;
            case TimerLagSpike spike when _lags.Count < MaxKeptPauses:
                _lags.Add((spike.TimestampMs - spike.LagMs, spike.TimestampMs));
                break;
            case GcSuspensionStarted suspended:
                EventsSeen = true;
                // A second start on the same thread means the first pause's restart was lost: the newer one counts.
                if (_suspendedAtMs is null || suspended.ThreadId == _suspendingThread)
                {
                    _suspendedAtMs = suspended.TimestampMs;
                    _suspendingThread = suspended.ThreadId;
                    _allStoppedAtMs = null;
                }

                break;
            // The GC suspends and restarts on one thread. The sample profiler's own suspensions end on its thread, and one
            // that was under way when the GC asked ends after the GC's start (measured: it cut most induced pauses short).
            case GcSuspended stopped when _suspendedAtMs is not null && stopped.ThreadId == _suspendingThread:
                _allStoppedAtMs ??= stopped.TimestampMs;
                break;
            case GcStarted started:
                EventsSeen = true;
                Collections++;
                _lastCollection = started;
                break;
            case GcRestarted restarted when _suspendedAtMs is { } start && restarted.ThreadId == _suspendingThread:
                var suspending = (_allStoppedAtMs ?? start) - start;
                _suspendedAtMs = null;
                _allStoppedAtMs = null;
                var duration = restarted.TimestampMs - start;
                Count++;
                TotalMs += duration;
                // A background GC's short pauses belong to the collection still running; a blocking one started inside the pause.
                var gc = _lastCollection;
                if (duration >= KeptFromMs && _pauses.Count < MaxKeptPauses)
                {
                    _pauses.Add(new GcPause(start, restarted.TimestampMs, suspending, gc?.Generation ?? -1, gc?.Reason ?? GcReason.SmallObjectAllocation,
                        gc?.Type ?? GcType.Blocking, gc is { IsInduced: true } ? gc.Stack.CallSite(callSiteDepth) : []));
                }

                break;
            case AllocationSampled allocation:
                EventsSeen = true;
                AllocatedBytes += allocation.Bytes;
                var frames = allocation.Stack.CallSite(callSiteDepth);
                var key = string.Join('|', frames);
                if (!_allocations.TryGetValue(key, out var site))
                {
                    if (_allocations.Count >= MaxAllocationSites)
                    {
                        break;
                    }

                    _allocations[key] = site = new AllocationSite(frames);
                }

                site.Bytes += allocation.Bytes;
                site.Samples++;
                if (site.TypeBytes.Count < MaxTypesPerSite || site.TypeBytes.ContainsKey(allocation.TypeName))
                {
                    site.TypeBytes[allocation.TypeName] = site.TypeBytes.GetValueOrDefault(allocation.TypeName) + allocation.Bytes;
                }

                break;
        }
    }

    /// <summary>Sampled allocations at one call site, and by type.</summary>
    internal sealed class AllocationSite(IReadOnlyList<string> frames)
    {
        public IReadOnlyList<string> Frames { get; } = frames;
        public long Bytes { get; set; }
        public long Samples { get; set; }
        public Dictionary<string, long> TypeBytes { get; } = [];

        public string TopType => TypeBytes.Count == 0 ? "" : TypeBytes.MaxBy(t => t.Value).Key;
    }
}
