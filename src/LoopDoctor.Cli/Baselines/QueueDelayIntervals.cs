using LoopDoctor.Cli.Detectors;
using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Baselines;

/// <summary>
/// The queue-delay figures check judges: the agent publishes one histogram interval per second; the judged p99 is the
/// count-weighted median of the intervals' p99s (and p50 likewise). One noisy second (a GC, a busy CI neighbour) moves
/// the worst interval a lot and this figure little; a regression that lasts, moves it. The report's p99 stays the worst interval's.
/// </summary>
internal sealed class QueueDelayIntervals
{
    private readonly List<(double P50, double P99, long Count)> _intervals = [];
    private readonly Lock _lock = new();

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _intervals.Count;
            }
        }
    }

    public void Observe(Signal signal)
    {
        if (signal is MetricHistogram { InstrumentName: ThreadPoolStatistics.QueueDelayInstrument, Count: > 0 } h &&
            h.Quantiles.TryGetValue(0.99, out var p99))
        {
            var p50 = h.Quantiles.TryGetValue(0.5, out var median) ? median : p99;
            lock (_lock)
            {
                _intervals.Add((p50 * 1000, p99 * 1000, h.Count));
            }
        }
    }

    /// <summary>Judged p50 and p99 in milliseconds, or null without agent figures.</summary>
    public (double P50, double P99)? Typical()
    {
        lock (_lock)
        {
            if (_intervals.Count == 0)
            {
                return null;
            }

            return (Math.Round(WeightedMedian(_intervals.Select(i => (i.P50, i.Count))), 1), Math.Round(WeightedMedian(_intervals.Select(i => (i.P99, i.Count))), 1));
        }
    }

    internal static double WeightedMedian(IEnumerable<(double Value, long Weight)> values)
    {
        var sorted = values.OrderBy(v => v.Value).ToList();
        var half = sorted.Sum(v => v.Weight) / 2.0;
        double seen = 0;
        foreach (var (value, weight) in sorted)
        {
            seen += weight;
            if (seen >= half)
            {
                return value;
            }
        }

        return sorted.Count > 0 ? sorted[^1].Value : 0;
    }
}
