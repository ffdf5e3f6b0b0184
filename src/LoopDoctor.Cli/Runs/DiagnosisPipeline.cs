using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Projections;
using LoopDoctor.Cli.Rules;
using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Runs;

/// <summary>
/// The one pipeline live sessions and trace files share: signals in (in timestamp order) feed the projections; a report
/// asks the rules to turn the projections into findings. Thread-safe: the session's reader thread observes while
/// <c>monitor</c> builds snapshots.
/// </summary>
internal sealed class DiagnosisPipeline
{
    private readonly Lock _lock = new();
    private readonly DiagnosisProjections _projections;
    private readonly IFindingRule[] _rules;
    private readonly DiagnosisOptions _options;

    public DiagnosisPipeline(DiagnosisOptions? options = null)
    {
        _options = options ??= new DiagnosisOptions();
        _projections = new DiagnosisProjections(options.CallSiteDepth, options.LongCallbackThresholdMs, options.LagWarningMs);
        _rules =
        [
            new StarvationRule(options),
            new BlockingWaitRule(options),
            new LockContentionRule(options),
            new LongCallbackRule(options),
            new UnobservedTaskExceptionRule(options),
            new HighLagRule(options),
            new GcPauseRule(options),
            new DeadlockRule(options),
            new HungWaitRule(options),
        ];
    }

    /// <summary>The agent's AgentStarted event, when one arrived.</summary>
    public AgentStarted? AgentSeen { get; private set; }

    public long SignalCount { get; private set; }

    /// <summary>Signals seen by type (LOOPDOCTOR_DEBUG=1 prints them): tells a missing provider from a quiet target.</summary>
    public Dictionary<string, long> SignalCounts { get; } = [];

    public void Observe(Signal signal)
    {
        lock (_lock)
        {
            // A collapsed run of samples counts as the samples it stands for.
            var count = signal is StackSample sample ? sample.Count : 1;
            SignalCount += count;
            var type = signal is MetricValue m ? "MetricValue:" + m.InstrumentName : signal is MetricHistogram h ? "MetricHistogram:" + h.InstrumentName : signal.GetType().Name;
            SignalCounts[type] = SignalCounts.GetValueOrDefault(type) + count;
            if (signal is AgentStarted agent)
            {
                AgentSeen ??= agent;
            }

            _projections.Observe(signal);
        }
    }

    /// <summary>
    /// Whether a thread has waited to enter a lock (in application code) for at least <paramref name="stuckMs"/>, as
    /// events or samples show it: a snapshot can then tell which locks and who holds them. Other hung waits are named
    /// from events and samples alone, and a dump would add nothing to them.
    /// </summary>
    public bool HasStuckThreads(double stuckMs)
    {
        lock (_lock)
        {
            var now = _projections.NowMs;
            return _projections.LockWaits.StuckSince(now, stuckMs).Any()
                   || _projections.HungWaits.ParkedFor(now, stuckMs).Any(p => HungWaits.IsLockWait(p.Stack) && HungWaits.InApplicationCode(p.Stack));
        }
    }

    /// <summary>The latest event time seen (ms into the trace).</summary>
    public double NowMs
    {
        get
        {
            lock (_lock)
            {
                return _projections.NowMs;
            }
        }
    }

    /// <summary>GC pauses drawn on the report's timeline at most: the longest, so a long session's page stays small.</summary>
    internal const int MaxTimelineGcPauses = 1000;

    /// <summary>Builds the report from everything seen so far; does not consume state (call it as often as needed).</summary>
    public DiagnosisReport BuildReport(TargetInfo target, double durationSeconds, AgentPresence agent)
    {
        lock (_lock)
        {
            var findings = FindingLinks.Link(_rules.SelectMany(r => r.Evaluate(_projections)), _projections.LockContentions.Framework, _options);
            return new DiagnosisReport(target, Math.Round(durationSeconds, 3), agent, VerdictOf(findings), findings,
                _projections.ThreadPool.ToSummary() with { BlockedThreadsMax = _projections.BlockedAtOnce })
            {
                Timeline = _projections.Timeline.Snapshot() with
                {
                    GcPauses = _projections.GcPauses.LongestOver(_options.LagWarningMs, MaxTimelineGcPauses)
                        .Select(p => new TimelineGcPause(p.StartMs / 1000, p.EndMs / 1000, p.Generation, p.IsInduced))
                        .ToList(),
                },
                Unseen = Unseen(),
            };
        }
    }

    // Only what the signals prove missing: a source that sent no stack sample at all had no sample profiler.
    private List<string> Unseen()
    {
        var unseen = new List<string>();
        if (SignalCount > 0 && SignalCounts.GetValueOrDefault(nameof(StackSample)) == 0)
        {
            unseen.Add(NoStackSamples);
        }

        return unseen;
    }

    internal const string NoStackSamples =
        "No stack samples (the sample profiler was off: monitor samples only while the pool lags, and a recording may not have enabled it): " +
        "long callbacks — CPU loops, Thread.Sleep, synchronous I/O — cannot be seen, and blocking waits have call sites only from their own events. " +
        "To see them: diagnose, or monitor --stack-sampling always, or record with dotnet-trace's cpu-sampling profile too.";

    // Starvation is the one finding that says the whole pool is stuck; any other warning only degrades it.
    private static Verdict VerdictOf(IReadOnlyList<Finding> findings) =>
        findings.Any(f => f.Kind == FindingKinds.ThreadPoolStarvation && f.Severity == Severity.Critical)
            ? Verdict.Starving
            : findings.Any(f => f.Severity >= Severity.Warning) ? Verdict.Degraded : Verdict.Healthy;
}
