namespace LoopDoctor.Agent.Prometheus;

/// <summary>
/// How one instrument's measurements are aggregated, named as OpenTelemetry names its metric types so the
/// compatibility spec's mapping (https://opentelemetry.io/docs/specs/otel/compatibility/prometheus_and_openmetrics/)
/// reads the same here.
/// </summary>
internal enum MetricType
{
    /// <summary>Monotonic sum of integers: Counter, ObservableCounter.</summary>
    LongSum,
    DoubleSum,

    /// <summary>Sum that may go down: UpDownCounter, ObservableUpDownCounter.</summary>
    LongSumNonMonotonic,
    DoubleSumNonMonotonic,

    /// <summary>Last value: ObservableGauge, Gauge (.NET 9+).</summary>
    LongGauge,
    DoubleGauge,

    /// <summary>Explicit-bucket histogram.</summary>
    Histogram,
}
