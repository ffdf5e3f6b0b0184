using LoopDoctor.Agent.Metrics;

namespace OpenTelemetry.Metrics;

/// <summary>
/// For apps that already run an OpenTelemetry pipeline (OTLP, their own Prometheus exporter):
/// <c>.WithMetrics(m =&gt; m.AddLoopDoctorInstrumentation())</c> exports the agent's <c>LoopDoctor</c> meter.
/// Lives in <c>OpenTelemetry.Metrics</c> like other instrumentation packages' extensions.
/// </summary>
public static class LoopDoctorMeterProviderBuilderExtensions
{
    public static MeterProviderBuilder AddLoopDoctorInstrumentation(this MeterProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddMeter(LoopDoctorInstruments.MeterName);
    }
}
