using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Projections;

/// <summary>
/// The queue-delay figures check judges: the agent publishes one histogram interval per second; the judged p99 is the
/// count-weighted median of the intervals' p99s (and p50 likewise). One noisy second (a GC, a busy CI neighbour) moves
/// the worst interval a lot and this figure little; a regression that lasts, moves it. The report's p99 stays the worst interval's.
/// </summary>
internal sealed class QueueDelayIntervals : IProjection
{
    private readonly List<(double P50, double P99, long Count)> _intervals = [];

    // check observes on the session's reader thread and asks for the figures on its own.
    private readonly Lock _lock = new();

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

            return (Math.Round(WeightedMedian.Of(_intervals.Select(i => (i.P50, i.Count))), 1), Math.Round(WeightedMedian.Of(_intervals.Select(i => (i.P99, i.Count))), 1));
        }
    }
}
