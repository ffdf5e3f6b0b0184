using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Detectors;

/// <summary>
/// The one pipeline live sessions and trace files share: signals in (in timestamp order), findings and a report out.
/// Thread-safe: the session's reader thread observes while <c>monitor</c> builds snapshots.
/// </summary>
internal sealed class DiagnosisPipeline
{
    private readonly Lock _lock = new();
    private readonly DetectorOptions _options;
    private readonly PoolThreadRegistry _poolThreads = new();
    private readonly ThreadPoolStatistics _threadPool = new();
    private readonly IDetector[] _detectors;
    private double _firstMs = double.NaN;
    private double _lastMs;

    public DiagnosisPipeline(DetectorOptions? options = null)
    {
        _options = options ?? new DetectorOptions();
        _detectors =
        [
            new StarvationDetector(),
            new BlockingWaitDetector(_options),
            new LockContentionDetector(_options),
            new LongCallbackDetector(_options),
            new UnobservedTaskExceptionDetector(_options),
            new HighLagDetector(),
        ];
    }

    /// <summary>The agent's AgentStarted event, when one arrived.</summary>
    public AgentStarted? AgentSeen { get; private set; }

    public long SignalCount { get; private set; }

    /// <summary>When set, signals it rejects are not observed (check: the warm-up period is not judged).</summary>
    public Func<Signal, bool>? Admit { get; init; }

    /// <summary>Signals seen by type (LOOPDOCTOR_DEBUG=1 prints them): tells a missing provider from a quiet target.</summary>
    public Dictionary<string, long> SignalCounts { get; } = [];

    /// <summary>Milliseconds of trace time covered by the signals seen so far.</summary>
    public double ObservedMs
    {
        get
        {
            lock (_lock)
            {
                return double.IsNaN(_firstMs) ? 0 : _lastMs - _firstMs;
            }
        }
    }

    public void Observe(Signal signal)
    {
        if (Admit is { } admit && !admit(signal))
        {
            return;
        }

        lock (_lock)
        {
            // A collapsed run of samples counts as the samples it stands for.
            var (count, lastMs) = signal is StackSample sample ? (sample.Count, sample.LastTimestampMs) : (1, signal.TimestampMs);
            SignalCount += count;
            var type = signal is MetricValue m ? "MetricValue:" + m.InstrumentName : signal is MetricHistogram h ? "MetricHistogram:" + h.InstrumentName : signal.GetType().Name;
            SignalCounts[type] = SignalCounts.GetValueOrDefault(type) + count;
            if (double.IsNaN(_firstMs))
            {
                _firstMs = signal.TimestampMs;
            }

            _lastMs = Math.Max(_lastMs, lastMs);
            if (signal is AgentStarted agent)
            {
                AgentSeen ??= agent;
            }

            _poolThreads.Observe(signal);
            _threadPool.Observe(signal);
            foreach (var detector in _detectors)
            {
                detector.Observe(signal);
            }
        }
    }

    /// <summary>Builds the report from everything seen so far; does not consume state (call it as often as needed).</summary>
    public DiagnosisReport BuildReport(TargetInfo target, double durationSeconds, AgentPresence agent)
    {
        lock (_lock)
        {
            var context = new DetectionContext(_options, _poolThreads, _threadPool, _lastMs);
            var findings = _detectors.SelectMany(d => d.GetFindings(context))
                .OrderByDescending(f => f.Severity)
                .ThenByDescending(f => f.Kind == FindingKinds.ThreadPoolStarvation)
                .ThenByDescending(f => f.TotalMilliseconds)
                .ToList();
            var verdict = findings.Any(f => f.Kind == FindingKinds.ThreadPoolStarvation && f.Severity == Severity.Critical)
                ? Verdict.Starving
                : findings.Any(f => f.Severity >= Severity.Warning) ? Verdict.Degraded : Verdict.Healthy;
            return new DiagnosisReport(target, Math.Round(durationSeconds, 3), agent, verdict, findings, _threadPool.ToSummary());
        }
    }
}
