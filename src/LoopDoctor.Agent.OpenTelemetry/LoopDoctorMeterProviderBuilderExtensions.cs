using System.Diagnostics.Metrics;
using LoopDoctor.Agent;
using LoopDoctor.Agent.Metrics;

namespace OpenTelemetry.Metrics;

/// <summary>
/// For apps that already run an OpenTelemetry pipeline (OTLP, their own Prometheus exporter):
/// <c>.WithMetrics(m =&gt; m.AddLoopDoctorInstrumentation())</c> exports the agent's <c>LoopDoctor</c> meter.
/// Lives in <c>OpenTelemetry.Metrics</c> like other instrumentation packages' extensions.
/// </summary>
public static class LoopDoctorMeterProviderBuilderExtensions
{
    /// <summary>
    /// Adds the <c>LoopDoctor</c> meter and starts the agent with the provider (or adopts the one already running,
    /// e.g. from <c>AddLoopDoctor()</c> or a startup hook). The agent started here stops when the provider is disposed.
    /// </summary>
    public static MeterProviderBuilder AddLoopDoctorInstrumentation(this MeterProviderBuilder builder, Action<LoopDoctorOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new LoopDoctorOptions();
        configure?.Invoke(options);
        options.Validate();
        return builder
            .AddLoopDoctorMeter()
            .AddInstrumentation(() => AgentHold.StartOrAdopt(options));
    }

    /// <summary>
    /// The <c>LoopDoctor</c> meter with its delay buckets: the agent is built for .NET 8, which has no
    /// <c>InstrumentAdvice</c>, so its histograms' boundaries reach the SDK through this view.
    /// </summary>
    internal static MeterProviderBuilder AddLoopDoctorMeter(this MeterProviderBuilder builder)
        => builder
            .AddMeter(LoopDoctorInstruments.MeterName)
            .AddView(instrument => instrument.Meter.Name == LoopDoctorInstruments.MeterName && instrument is Histogram<double>
                ? new ExplicitBucketHistogramConfiguration { Boundaries = LoopDoctorInstruments.DelayBucketsSeconds }
                : null);
}
