using System.Text;

namespace LoopDoctor.Agent.Prometheus;

/// <summary>
/// One Prometheus metric family: the names, type, unit and help shared by every OTel metric stream that maps to it.
/// Names are pre-encoded to UTF-8 once so the serializer's loops only copy bytes.
/// </summary>
internal sealed class PrometheusMetricFamily
{
    public PrometheusMetricFamily(string baseName, PrometheusMetricType type, string? unit, string help)
    {
        BaseName = baseName;
        Type = type;
        Unit = unit;
        Help = help;
        ExposedName = type == PrometheusMetricType.Counter ? baseName + "_total" : baseName;
        BaseNameUtf8 = Encoding.UTF8.GetBytes(baseName);
        TotalNameUtf8 = Encoding.UTF8.GetBytes(baseName + "_total");
        BucketNameUtf8 = Encoding.UTF8.GetBytes(baseName + "_bucket");
        SumNameUtf8 = Encoding.UTF8.GetBytes(baseName + "_sum");
        CountNameUtf8 = Encoding.UTF8.GetBytes(baseName + "_count");
        UnitUtf8 = unit is null ? null : Encoding.UTF8.GetBytes(unit);
        HelpText = help;
    }

    /// <summary>Sanitized name with unit suffix and without <c>_total</c>, e.g. <c>dotnet_process_cpu_time_seconds</c>.</summary>
    public string BaseName { get; }

    /// <summary>The sample/family name in text 0.0.4: <c>x_total</c> for counters, <see cref="BaseName"/> otherwise.</summary>
    public string ExposedName { get; }
    public PrometheusMetricType Type { get; }
    public string? Unit { get; }
    public string Help { get; }

    internal byte[] BaseNameUtf8 { get; }
    internal byte[] TotalNameUtf8 { get; }
    internal byte[] BucketNameUtf8 { get; }
    internal byte[] SumNameUtf8 { get; }
    internal byte[] CountNameUtf8 { get; }
    internal byte[]? UnitUtf8 { get; }
    internal string HelpText { get; }

    /// <summary>True when another stream can share this family's single <c># HELP</c>/<c># TYPE</c>.</summary>
    public bool IsCompatibleWith(PrometheusMetricFamily other) => other.Type == Type && other.Unit == Unit;
}

/// <summary>
/// What the serializer needs about one instrument's stream (<see cref="InstrumentAggregate"/>): its family, how to read
/// its points, and the label prefix every one of its samples carries (constant labels, then
/// <c>otel_scope_name</c>/<c>otel_scope_version</c>). Built once per metric stream and cached by the exporter.
/// </summary>
internal sealed class PrometheusMetricStream
{
    private PrometheusMetricStream(PrometheusMetricFamily family, MetricType metricType, byte[] prefixLabels, byte[][] prefixLabelNames, double[] boundaries)
    {
        Boundaries = boundaries;
        Family = family;
        MetricType = metricType;
        PrefixLabels = prefixLabels;
        PrefixLabelNames = prefixLabelNames;
    }

    public PrometheusMetricFamily Family { get; }
    public MetricType MetricType { get; }

    /// <summary>A histogram's bucket upper bounds (+Inf excluded); empty for other types.</summary>
    public double[] Boundaries { get; }

    /// <summary>Encoded <c>name="value",name="value"</c> without braces; empty when there are none.</summary>
    public byte[] PrefixLabels { get; }

    /// <summary>The sanitized names inside <see cref="PrefixLabels"/>; a point tag with one of these names is dropped.</summary>
    public byte[][] PrefixLabelNames { get; }

    public static PrometheusMetricStream Create(InstrumentAggregate aggregate, IReadOnlyList<KeyValuePair<string, string>> constantLabels)
    {
        var instrument = aggregate.Instrument;
        return Create(instrument.Name, instrument.Unit, instrument.Description, aggregate.Type, instrument.Meter.Name, instrument.Meter.Version, constantLabels, aggregate.Boundaries);
    }

    internal static PrometheusMetricStream Create(string name, string? unit, string? description, MetricType metricType,
        string meterName, string? meterVersion, IReadOnlyList<KeyValuePair<string, string>> constantLabels, double[]? boundaries = null)
    {
        metricType = CorrectRuntimeInstrumentType(meterName, name, metricType);

        // https://opentelemetry.io/docs/specs/otel/compatibility/prometheus_and_openmetrics/#sums
        // Monotonic cumulative sums → counter; non-monotonic sums → gauge.
        // https://opentelemetry.io/docs/specs/otel/compatibility/prometheus_and_openmetrics/#gauges → gauge.
        // https://opentelemetry.io/docs/specs/otel/compatibility/prometheus_and_openmetrics/#histograms → histogram.
        PrometheusMetricType type;
        switch (metricType)
        {
            case MetricType.LongSum:
            case MetricType.DoubleSum:
                type = PrometheusMetricType.Counter;
                break;
            case MetricType.LongSumNonMonotonic:
            case MetricType.DoubleSumNonMonotonic:
            case MetricType.LongGauge:
            case MetricType.DoubleGauge:
                type = PrometheusMetricType.Gauge;
                break;
            default:
                type = PrometheusMetricType.Histogram;
                break;
        }

        // `1` → `_ratio` applies to OTel gauges only (not to UpDownCounters that become Prometheus gauges).
        var isOtelGauge = metricType is MetricType.LongGauge or MetricType.DoubleGauge;
        var unitSuffix = PrometheusNaming.UnitSuffix(unit, isOtelGauge);
        var baseName = PrometheusNaming.AvoidReservedSuffix(meterName, name, PrometheusNaming.FamilyBaseName(name, unitSuffix, type), type);
        var family = new PrometheusMetricFamily(baseName, type, unitSuffix, description ?? string.Empty);

        // https://opentelemetry.io/docs/specs/otel/compatibility/prometheus_and_openmetrics/#instrumentation-scope-1
        // The scope name and version go on every sample, which also keeps same-named instruments of different meters apart.
        var labels = new List<KeyValuePair<string, string>>(constantLabels.Count + 2);
        labels.AddRange(constantLabels);
        labels.Add(new("otel_scope_name", meterName));
        if (!string.IsNullOrEmpty(meterVersion))
        {
            labels.Add(new("otel_scope_version", meterVersion));
        }

        var (prefix, names) = PrometheusSerializer.EncodeLabels(labels);
        return new PrometheusMetricStream(family, metricType, prefix, names, boundaries ?? []);
    }

    /// <summary>
    /// The runtime (.NET 9 and 10) declares <c>dotnet.thread_pool.thread.count</c> and <c>dotnet.thread_pool.queue.length</c>
    /// with <c>CreateObservableCounter</c>, i.e. monotonic, although both go down; the semantic conventions define them
    /// as UpDownCounters (https://opentelemetry.io/docs/specs/semconv/runtime/dotnet-metrics/#metric-dotnetthread_poolqueuelength).
    /// Exposed as counters, Prometheus' rate() would read every decrease as a reset — on the very signals LoopDoctor
    /// is about — so they are exposed as the gauges the conventions call for. The value is read the same way.
    /// </summary>
    internal static MetricType CorrectRuntimeInstrumentType(string meterName, string name, MetricType metricType)
    {
        if (meterName != "System.Runtime" || name is not ("dotnet.thread_pool.thread.count" or "dotnet.thread_pool.queue.length"))
        {
            return metricType;
        }

        return metricType switch
        {
            MetricType.LongSum => MetricType.LongSumNonMonotonic,
            MetricType.DoubleSum => MetricType.DoubleSumNonMonotonic,
            _ => metricType,
        };
    }
}
