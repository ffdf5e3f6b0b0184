using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Projections;

/// <summary>
/// The pool's figures over the session, the evidence the starvation and high-lag rules weigh: injections by reason
/// (ThreadPoolWorkerThreadAdjustment/Adjustment), worker counts, queue length (System.Runtime's
/// <c>dotnet.thread_pool.*</c> instruments), the agent's queue delay and timer lag, and how many pool threads were
/// blocked at once.
/// </summary>
internal sealed class ThreadPoolStatistics : IProjection
{
    public const string RuntimeMeter = "System.Runtime";
    public const string AgentMeter = LoopDoctor.Agent.Metrics.LoopDoctorInstruments.MeterName;
    public const string QueueLengthInstrument = "dotnet.thread_pool.queue.length";
    public const string ThreadCountInstrument = "dotnet.thread_pool.thread.count";
    public const string QueueDelayInstrument = LoopDoctor.Agent.Metrics.LoopDoctorInstruments.Names.QueueDelay;

    /// <summary>The agent's gauge of how long its outstanding probe has waited so far: the only delay figure while a
    /// stall lasts, since the histogram records a probe only once it has run.</summary>
    public const string QueueDelayCurrentInstrument = LoopDoctor.Agent.Metrics.LoopDoctorInstruments.Names.QueueDelayCurrent;
    public const string TimerLagInstrument = LoopDoctor.Agent.Metrics.LoopDoctorInstruments.Names.TimerLag;

    /// <summary>How overdue the agent's outstanding timer probe is: the timer's figure while a stall lasts (the timeline charts it).</summary>
    public const string TimerLagCurrentInstrument = LoopDoctor.Agent.Metrics.LoopDoctorInstruments.Names.TimerLagCurrent;

    private readonly HashSet<int> _blockedThreads = [];
    private readonly HashSet<string> _histogramsSeen = [];
    private readonly List<(double Ms, long Count)> _delayP50s = [];
    private readonly List<double> _delayP99s = [];
    private readonly List<double> _delayCurrents = [];
    private readonly List<double> _lagP99s = [];
    private long _delaySamples;
    private QueueDelayMaxSource _delayMaxSource;

    public int StarvationInjections { get; private set; }
    public int CooperativeBlockingInjections { get; private set; }
    public int ThreadCountMax { get; private set; }
    public int ThreadCountMin { get; private set; } = int.MaxValue;
    public int? LastThreadCount { get; private set; }
    public long QueueLengthMax { get; private set; }
    public long? FirstQueueLength { get; private set; }
    public long? LastQueueLength { get; private set; }
    public int MaxBlockedPoolThreads { get; private set; }

    /// <summary>Worst queue delay seen (ms): the max of the agent's interval p99s, its waiting-probe gauge and its spike events.</summary>
    public double? QueueDelayMaxMs { get; private set; }

    /// <summary>The highest per-interval p99 of the agent's queue delay (ms).</summary>
    public double? QueueDelayP99Ms { get; private set; }

    public double? TimerLagMaxMs { get; private set; }
    public int QueueDelaySpikes { get; private set; }
    public int TimerLagSpikes { get; private set; }

    /// <summary>The longest probe among the agent's spike events (ms), 0 when there were none.</summary>
    public double QueueDelaySpikeMaxMs { get; private set; }

    public double TimerLagSpikeMaxMs { get; private set; }

    public void Observe(Signal signal)
    {
        // The first interval of each histogram covers loopdoctor's own attach (the rundown pauses the target for a moment,
        // measured up to ~200 ms of queue delay on 2 cores): it says nothing about the app, so it is left out.
        if (signal is MetricHistogram histogram && _histogramsSeen.Add(histogram.MeterName + "/" + histogram.InstrumentName))
        {
            return;
        }

        switch (signal)
        {
            case PoolAdjustment adjustment:
                if (adjustment.Reason == AdjustmentReason.Starvation)
                {
                    StarvationInjections++;
                }
                else if (adjustment.Reason == AdjustmentReason.CooperativeBlocking)
                {
                    CooperativeBlockingInjections++;
                }

                ThreadCount(adjustment.NewWorkerThreadCount);
                break;
            case PoolThreadSeen { ActiveWorkerCount: { } active }:
                ThreadCount(active);
                break;
            case MetricValue { MeterName: RuntimeMeter, InstrumentName: ThreadCountInstrument } count:
                ThreadCount((int)count.Value);
                break;
            case MetricValue { MeterName: RuntimeMeter, InstrumentName: QueueLengthInstrument } length:
                var queued = (long)length.Value;
                QueueLengthMax = Math.Max(QueueLengthMax, queued);
                FirstQueueLength ??= queued;
                LastQueueLength = queued;
                break;
            case MetricHistogram { MeterName: AgentMeter, InstrumentName: QueueDelayInstrument } delay when delay.Count > 0:
                // Seconds → ms. p50 is the count-weighted median of the intervals' p50; p99 is the worst interval's.
                if (delay.Quantiles.TryGetValue(0.5, out var p50) && delay.Quantiles.TryGetValue(0.99, out var p99))
                {
                    _delayP50s.Add((p50 * 1000, delay.Count));
                    _delayP99s.Add(p99 * 1000);
                    _delaySamples += delay.Count;
                    QueueDelayP99Ms = Math.Max(QueueDelayP99Ms ?? 0, p99 * 1000);
                    RaiseQueueDelayMax(p99 * 1000, QueueDelayMaxSource.CompletedProbes);
                }

                break;
            case MetricValue { MeterName: AgentMeter, InstrumentName: QueueDelayCurrentInstrument } current when current.Value > 0:
                _delayCurrents.Add(current.Value * 1000);
                RaiseQueueDelayMax(current.Value * 1000, QueueDelayMaxSource.WaitingProbe);
                break;
            case MetricHistogram { MeterName: AgentMeter, InstrumentName: TimerLagInstrument } lag when lag.Count > 0:
                if (lag.Quantiles.TryGetValue(0.99, out var lagP99))
                {
                    _lagP99s.Add(lagP99 * 1000);
                    TimerLagMaxMs = Math.Max(TimerLagMaxMs ?? 0, lagP99 * 1000);
                }

                break;
            case QueueDelaySpike spike:
                QueueDelaySpikes++;
                QueueDelaySpikeMaxMs = Math.Max(QueueDelaySpikeMaxMs, spike.DelayMs);
                RaiseQueueDelayMax(spike.DelayMs, QueueDelayMaxSource.SpikeEvent);
                break;
            case TimerLagSpike spike:
                TimerLagSpikes++;
                TimerLagSpikeMaxMs = Math.Max(TimerLagSpikeMaxMs, spike.LagMs);
                TimerLagMaxMs = Math.Max(TimerLagMaxMs ?? 0, spike.LagMs);
                break;
            case WaitStarted wait when BlockingWaits.IsUserWait(wait):
                _blockedThreads.Add(wait.ThreadId);
                MaxBlockedPoolThreads = Math.Max(MaxBlockedPoolThreads, _blockedThreads.Count);
                break;
            case WaitStopped stop:
                _blockedThreads.Remove(stop.ThreadId);
                break;
        }
    }

    /// <summary>
    /// Queue delay over <paramref name="thresholdMs"/> that is more than a blip: in at least two intervals and half of
    /// them, or one interval over twice the threshold, or two spike events from the agent (or one over twice the
    /// threshold), or the outstanding probe seen over it twice. One probe just over the threshold is a blip: an attached
    /// sampling profiler alone causes those on a small machine (docs/benchmarks.md), so it is not judged.
    /// </summary>
    public bool QueueDelaySustainedOver(double thresholdMs)
        => SustainedOver(_delayP99s, thresholdMs) || SpikesSustained(QueueDelaySpikes, QueueDelaySpikeMaxMs, thresholdMs) || _delayCurrents.Count(v => v >= thresholdMs) >= 2;

    public bool TimerLagSustainedOver(double thresholdMs) => SustainedOver(_lagP99s, thresholdMs) || SpikesSustained(TimerLagSpikes, TimerLagSpikeMaxMs, thresholdMs);

    private static bool SpikesSustained(int spikes, double maxMs, double thresholdMs) => spikes >= 2 || (spikes == 1 && maxMs >= 2 * thresholdMs);

    private static bool SustainedOver(List<double> p99s, double thresholdMs)
    {
        var over = p99s.Count(v => v >= thresholdMs);
        return p99s.Any(v => v >= 2 * thresholdMs) || (over >= 2 && over * 2 >= p99s.Count);
    }

    private void RaiseQueueDelayMax(double ms, QueueDelayMaxSource source)
    {
        if (QueueDelayMaxMs is not { } max || ms > max)
        {
            QueueDelayMaxMs = ms;
            _delayMaxSource = source;
        }
    }

    private void ThreadCount(int count)
    {
        if (count <= 0)
        {
            return;
        }

        ThreadCountMax = Math.Max(ThreadCountMax, count);
        ThreadCountMin = Math.Min(ThreadCountMin, count);
        LastThreadCount = count;
    }

    public Percentiles? QueueDelay
    {
        get
        {
            if (_delayP50s.Count == 0 && QueueDelayMaxMs is null)
            {
                return null;
            }

            // p50 and p99 only from probes that ran; a stall that outlasts the session shows only in the max.
            double? median = _delayP50s.Count == 0 ? null : Math.Round(WeightedMedian.Of(_delayP50s), 3);
            double? p99 = QueueDelayP99Ms is { } worst ? Math.Round(worst, 3) : null;
            return new Percentiles(median, p99, Math.Round(QueueDelayMaxMs ?? 0, 3))
            {
                MaxSource = _delayMaxSource,
                Samples = _delaySamples,
            };
        }
    }

    public ThreadPoolSummary ToSummary() => new(
        QueueDelay,
        ThreadCountMax,
        ThreadCountMin == int.MaxValue ? 0 : ThreadCountMin,
        QueueLengthMax,
        new InjectionCounts(StarvationInjections, CooperativeBlockingInjections))
    {
        ThreadCountLast = LastThreadCount ?? 0,
        QueueLengthLast = LastQueueLength ?? 0,
    };
}
