using LoopDoctor.Agent.Metrics;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace LoopDoctor.Agent.Tests.OpenTelemetry;

/// <summary>
/// <c>AddLoopDoctorInstrumentation()</c> in a real OpenTelemetry SDK pipeline: the LoopDoctor meter is subscribed, and its
/// histograms carry the delay buckets (a View: the agent's .NET 8 build cannot advise them).
/// </summary>
public sealed class MeterProviderViewTests
{
    [Fact]
    public void AddLoopDoctorInstrumentation_subscribes_the_LoopDoctor_meter_with_its_delay_buckets()
    {
        using var instruments = new LoopDoctorInstruments();
        var exporter = new CapturingExporter();
        using var provider = Sdk.CreateMeterProviderBuilder()
            .AddLoopDoctorInstrumentation()
            .AddReader(new BaseExportingMetricReader(exporter))
            .Build();
        instruments.ThreadInjections.Add(1, new KeyValuePair<string, object?>("reason", "test"));
        instruments.QueueDelay.Record(0.003);

        Assert.True(exporter.Collect!(10_000));
        Assert.Contains(LoopDoctorInstruments.Names.ThreadInjections, exporter.Names);
        Assert.Equal([.. LoopDoctorInstruments.DelayBucketsSeconds, double.PositiveInfinity], exporter.BucketBounds[LoopDoctorInstruments.Names.QueueDelay]);
    }

    [ExportModes(ExportModes.Pull)]
    private sealed class CapturingExporter : BaseExporter<Metric>, IPullMetricExporter
    {
        public Func<int, bool>? Collect { get; set; }
        public List<string> Names { get; } = [];
        public Dictionary<string, List<double>> BucketBounds { get; } = [];

        public override ExportResult Export(in Batch<Metric> batch)
        {
            foreach (var metric in batch)
            {
                if (metric.MeterName != LoopDoctorInstruments.MeterName)
                {
                    continue;
                }

                Names.Add(metric.Name);
                if (metric.MetricType != MetricType.Histogram)
                {
                    continue;
                }

                foreach (ref readonly var point in metric.GetMetricPoints())
                {
                    var bounds = new List<double>();
                    foreach (var bucket in point.GetHistogramBuckets())
                    {
                        bounds.Add(bucket.ExplicitBound);
                    }

                    BucketBounds[metric.Name] = bounds;
                }
            }

            return ExportResult.Success;
        }
    }
}
