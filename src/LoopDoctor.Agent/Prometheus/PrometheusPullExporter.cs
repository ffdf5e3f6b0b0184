namespace LoopDoctor.Agent.Prometheus;

/// <summary>Both formats' bytes from one collection. Immutable: cached and handed to concurrent responses.</summary>
internal sealed class PrometheusSnapshot(byte[] text, byte[] openMetrics)
{
    public static readonly PrometheusSnapshot Empty = new([], "# EOF\n"u8.ToArray());

    public byte[] Text { get; } = text;
    public byte[] OpenMetrics { get; } = openMetrics;

    public byte[] For(PrometheusFormat format) => format == PrometheusFormat.OpenMetrics ? OpenMetrics : Text;
}

/// <summary>
/// Serializes one collection of the <see cref="MeterCollector"/>'s instruments into both formats at once. Streams that
/// map to the same Prometheus family are grouped so each family gets exactly one <c># HELP</c>/<c># TYPE</c>
/// (https://prometheus.io/docs/instrumenting/exposition_formats/#grouping-and-sorting,
/// https://github.com/prometheus/OpenMetrics/blob/v1.0.0/specification/OpenMetrics.md#metricfamily — families
/// must not interleave).
/// </summary>
internal sealed class PrometheusPullExporter
{
    // Caps the per-stream name cache: instruments are few, but a host creating meters in a loop must not grow it forever.
    private const int MaxCachedStreams = 4096;

    private readonly Lock _sync = new();
    private readonly IReadOnlyList<KeyValuePair<string, string>> _constantLabels;
    private readonly Action<string>? _log;
    private readonly Dictionary<InstrumentAggregate, PrometheusMetricStream?> _streams = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<string, FamilyGroup> _familyByName = new(StringComparer.Ordinal);
    private readonly List<FamilyGroup> _families = [];
    private readonly HashSet<string> _reportedConflicts = new(StringComparer.Ordinal);
    private readonly PrometheusBuffer _text = new();
    private readonly PrometheusBuffer _openMetrics = new();
    private readonly PrometheusBuffer _scratch = new(1024);
    private readonly List<MetricPoint> _points = [];

    public PrometheusPullExporter(IReadOnlyList<KeyValuePair<string, string>>? constantLabels = null, Action<string>? log = null)
    {
        _constantLabels = constantLabels ?? [];
        _log = log;
    }

    /// <summary>Metric streams whose Prometheus names are cached (for tests of the pruning).</summary>
    internal int CachedStreamCount
    {
        get
        {
            lock (_sync)
            {
                return _streams.Count;
            }
        }
    }

    /// <summary>Both formats' bytes for <paramref name="batch"/>; null when serialization failed (logged).</summary>
    public PrometheusSnapshot? Export(List<InstrumentAggregate> batch)
    {
        // Collections are serialized by the collection manager; the lock keeps the test-facing counters consistent.
        lock (_sync)
        {
            try
            {
                GroupByFamily(batch);
                Serialize(_text, PrometheusFormat.Text);
                Serialize(_openMetrics, PrometheusFormat.OpenMetrics);
                PrometheusSerializer.WriteEof(_openMetrics);
                return new PrometheusSnapshot(_text.WrittenSpan.ToArray(), _openMetrics.WrittenSpan.ToArray());
            }
            catch (Exception ex)
            {
                _log?.Invoke($"Prometheus serialization failed: {ex.GetType().Name}: {ex.Message}");
                return null;
            }
            finally
            {
                foreach (var family in _families)
                {
                    family.Streams.Clear();
                }
            }
        }
    }

    private void GroupByFamily(List<InstrumentAggregate> batch)
    {
        foreach (var family in _families)
        {
            family.Streams.Clear();
        }

        var exported = 0;
        foreach (var aggregate in batch)
        {
            var stream = GetStream(aggregate);
            if (stream is null)
            {
                continue;
            }

            // Keyed by the base name, which is the OpenMetrics family name of every type (a counter `x` is family `x`
            // with samples `x_total` there), so a counter `x` and a gauge `x` collide here instead of producing two
            // OpenMetrics families of one name. With PrometheusNaming.AvoidReservedSuffix (no gauge or histogram ends
            // in _total, no gauge in _count/_sum/_bucket), distinct base names mean distinct sample names in both formats.
            if (!_familyByName.TryGetValue(stream.Family.BaseName, out var group))
            {
                group = new FamilyGroup(stream.Family);
                _familyByName.Add(stream.Family.BaseName, group);
                _families.Add(group);
            }

            if (!group.Family.IsCompatibleWith(stream.Family))
            {
                // Two instruments map to one name with different types/units: one family cannot carry both.
                var instrument = aggregate.Instrument;
                if (_reportedConflicts.Add(instrument.Meter.Name + "/" + instrument.Name))
                {
                    _log?.Invoke($"Prometheus: metric '{instrument.Name}' of meter '{instrument.Meter.Name}' maps to '{stream.Family.BaseName}', " +
                        $"already used by a {group.Family.Type} with unit '{group.Family.Unit}'; it is not exported.");
                }

                continue;
            }

            group.Streams.Add((aggregate, stream));
            exported++;
        }

        PruneCaches(exported);
    }

    /// <summary>
    /// Forgets streams and families that stopped appearing (their meter was disposed), so a host that creates and drops
    /// instruments does not make the caches grow for ever. Runs rarely: only when the cache is clearly larger than a batch.
    /// </summary>
    private void PruneCaches(int exported)
    {
        if (_streams.Count <= (2 * exported) + 64)
        {
            return;
        }

        _streams.Clear();
        _familyByName.Clear();
        var kept = 0;
        for (var i = 0; i < _families.Count; i++)
        {
            var group = _families[i];
            if (group.Streams.Count == 0)
            {
                continue;
            }

            _families[kept++] = group;
            _familyByName[group.Family.BaseName] = group;
            foreach (var (aggregate, stream) in group.Streams)
            {
                _streams[aggregate] = stream;
            }
        }

        _families.RemoveRange(kept, _families.Count - kept);
    }

    private void Serialize(PrometheusBuffer buffer, PrometheusFormat format)
    {
        buffer.Clear();
        foreach (var group in _families)
        {
            var headerWritten = false;
            foreach (var (aggregate, stream) in group.Streams)
            {
                aggregate.CopyPoints(_points);
                PrometheusSerializer.WriteMetric(buffer, _scratch, _points, stream, format, ref headerWritten);
            }
        }
    }

    private PrometheusMetricStream? GetStream(InstrumentAggregate aggregate)
    {
        if (_streams.TryGetValue(aggregate, out var stream))
        {
            return stream;
        }

        stream = PrometheusMetricStream.Create(aggregate, _constantLabels);
        if (_streams.Count < MaxCachedStreams)
        {
            _streams.Add(aggregate, stream);
        }

        return stream;
    }

    private sealed class FamilyGroup(PrometheusMetricFamily family)
    {
        public PrometheusMetricFamily Family { get; } = family;
        public List<(InstrumentAggregate Aggregate, PrometheusMetricStream Stream)> Streams { get; } = [];
    }
}
