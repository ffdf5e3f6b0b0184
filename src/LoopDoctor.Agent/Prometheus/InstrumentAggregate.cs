using System.Diagnostics.Metrics;

namespace LoopDoctor.Agent.Prometheus;

/// <summary>
/// The cumulative aggregate of one instrument, per tag set: sums for counters, last values for gauges and observable
/// instruments, explicit-bucket counts for histograms. Measurement callbacks (any thread) and the collection share one
/// lock per instrument; a measurement whose tag set is already known allocates nothing.
/// </summary>
internal sealed class InstrumentAggregate
{
    /// <summary>Tag sets kept per instrument (the OpenTelemetry SDK's default cardinality limit); further ones are dropped.</summary>
    internal const int MaxPoints = 2000;

    /// <summary>The OpenTelemetry SDK's default boundaries, for histograms that advise none.</summary>
    internal static readonly double[] DefaultBoundaries = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

    private readonly Lock _sync = new();
    private readonly List<MetricPoint> _points = [];
    private MetricPoint? _untagged;
    private bool _dropping;

    private InstrumentAggregate(Instrument instrument, MetricType type, double[] boundaries)
    {
        Instrument = instrument;
        Type = type;
        Boundaries = boundaries;
    }

    public Instrument Instrument { get; }
    public MetricType Type { get; }

    /// <summary>Upper bounds (inclusive) of a histogram's buckets, +Inf excluded; empty for other types.</summary>
    public double[] Boundaries { get; }

    /// <summary>Set once when a tag set beyond <see cref="MaxPoints"/> was dropped (the collector logs it once).</summary>
    public bool DroppedTagSets => Volatile.Read(ref _dropping);

    /// <summary>Null for an instrument kind the text formats have no type for (a custom <see cref="Instrument"/> subclass).</summary>
    public static InstrumentAggregate? Create(Instrument instrument, Func<Instrument, double[]> histogramBoundaries)
    {
        var type = instrument.GetType();
        if (!type.IsGenericType)
        {
            return null;
        }

        var integral = type.GetGenericArguments()[0] is var t && (t == typeof(long) || t == typeof(int) || t == typeof(short) || t == typeof(byte));
        MetricType? kind = type.GetGenericTypeDefinition().Name switch
        {
            "Counter`1" or "ObservableCounter`1" => integral ? MetricType.LongSum : MetricType.DoubleSum,
            "UpDownCounter`1" or "ObservableUpDownCounter`1" => integral ? MetricType.LongSumNonMonotonic : MetricType.DoubleSumNonMonotonic,
            // Gauge<T> exists from .NET 9; matched by name so the agent's one net8.0 build sees it where it runs.
            "ObservableGauge`1" or "Gauge`1" => integral ? MetricType.LongGauge : MetricType.DoubleGauge,
            "Histogram`1" => MetricType.Histogram,
            _ => null,
        };

        return kind is { } k ? new InstrumentAggregate(instrument, k, k == MetricType.Histogram ? histogramBoundaries(instrument) : []) : null;
    }

    public void Record(long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (Type == MetricType.Histogram || Type is MetricType.DoubleSum or MetricType.DoubleSumNonMonotonic or MetricType.DoubleGauge)
        {
            Record((double)value, tags);
            return;
        }

        lock (_sync)
        {
            if (PointFor(tags) is not { } point)
            {
                return;
            }

            // Observable instruments report the current total or value; synchronous counters report increments.
            point.LongValue = Type == MetricType.LongGauge || Instrument.IsObservable ? value : point.LongValue + value;
        }
    }

    public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (Type is MetricType.LongSum or MetricType.LongSumNonMonotonic or MetricType.LongGauge)
        {
            Record((long)value, tags);
            return;
        }

        if (Type == MetricType.Histogram && double.IsNaN(value))
        {
            return;
        }

        lock (_sync)
        {
            if (PointFor(tags) is not { } point)
            {
                return;
            }

            if (Type == MetricType.Histogram)
            {
                var bucket = 0;
                while (bucket < Boundaries.Length && value > Boundaries[bucket])
                {
                    bucket++;
                }

                point.BucketCounts![bucket]++;
                point.Sum += value;
                point.Count++;
            }
            else
            {
                point.DoubleValue = Type == MetricType.DoubleGauge || Instrument.IsObservable ? value : point.DoubleValue + value;
            }
        }
    }

    /// <summary>Before an observation round: an observable instrument reports only what its callback returns now.</summary>
    public void ClearObservations()
    {
        if (!Instrument.IsObservable)
        {
            return;
        }

        lock (_sync)
        {
            _points.Clear();
            _untagged = null;
        }
    }

    /// <summary>Copies every point (a consistent snapshot per instrument) into <paramref name="into"/>.</summary>
    public void CopyPoints(List<MetricPoint> into)
    {
        into.Clear();
        lock (_sync)
        {
            foreach (var point in _points)
            {
                into.Add(point.Clone());
            }
        }
    }

    private MetricPoint? PointFor(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.IsEmpty && _untagged is { } untagged)
        {
            return untagged;
        }

        foreach (var point in _points)
        {
            if (point.HasTags(tags))
            {
                return point;
            }
        }

        if (_points.Count >= MaxPoints)
        {
            _dropping = true;
            return null;
        }

        var sorted = tags.ToArray();
        Array.Sort(sorted, static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        var created = new MetricPoint(sorted, Type == MetricType.Histogram ? Boundaries.Length + 1 : 0);
        _points.Add(created);
        if (tags.IsEmpty)
        {
            _untagged = created;
        }

        return created;
    }
}
