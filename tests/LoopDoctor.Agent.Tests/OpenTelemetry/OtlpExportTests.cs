using System.Diagnostics.Metrics;
using System.Threading.Channels;
using LoopDoctor.Agent.Metrics;
using LoopDoctor.Agent.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using Xunit.Abstractions;

namespace LoopDoctor.Agent.Tests.OpenTelemetry;

/// <summary>
/// <c>AddLoopDoctorInstrumentation()</c> with the official OTLP exporter: a real Kestrel receiver on 127.0.0.1 gets the
/// OTLP/HTTP protobuf export and the test decodes which instruments of which scope are in it.
/// </summary>
[Collection(AgentCollection.Name)]
public sealed class OtlpExportTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task AddLoopDoctorInstrumentation_exports_the_agent_instruments_over_OTLP_http_protobuf()
    {
        Assert.Null(LoopDoctorAgent.Current); // the provider must start (and so own) the agent

        var bodies = Channel.CreateUnbounded<(string ContentType, byte[] Body)>();
        await using var receiver = await LocalWebApp.StartAsync(_ => { }, app => app.MapPost("/v1/metrics", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            bodies.Writer.TryWrite((context.Request.ContentType ?? "", body.ToArray()));
            // An empty ExportMetricsServiceResponse is a zero-length protobuf message.
            context.Response.ContentType = "application/x-protobuf";
            return Results.Empty;
        }));

        // A measurement of the probe's histogram seen after the provider is built is one the SDK has aggregated.
        var queueDelayRecorded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var providerBuilt = false;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == LoopDoctorInstruments.MeterName && instrument.Name == "loopdoctor.thread_pool.queue.delay")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<double>((_, _, _, _) =>
        {
            if (Volatile.Read(ref providerBuilt))
            {
                queueDelayRecorded.TrySetResult();
            }
        });
        listener.Start();

        var provider = Sdk.CreateMeterProviderBuilder()
            .AddLoopDoctorInstrumentation()
            .AddOtlpExporter((exporter, reader) =>
            {
                exporter.Endpoint = new Uri(receiver.Address, "v1/metrics");
                exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
                // Only ForceFlush exports: one POST per flush, nothing racing the test.
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 3_600_000;
            })
            .Build();
        try
        {
            Assert.NotNull(LoopDoctorAgent.Current);
            Volatile.Write(ref providerBuilt, true);
            try
            {
                await queueDelayRecorded.Task.WaitAsync(Timeout);
            }
            catch (TimeoutException)
            {
                Assert.Fail($"The agent's thread-pool probe recorded no loopdoctor.thread_pool.queue.delay within {Timeout.TotalSeconds:0} s.");
            }

            var flushed = await OnOwnThread(() => provider.ForceFlush((int)Timeout.TotalMilliseconds));
            Assert.True(flushed, "ForceFlush did not complete the OTLP export");

            var (contentType, body) = await bodies.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
            Assert.Equal("application/x-protobuf", contentType);
            var metrics = OtlpMetricsDecoder.Decode(body);
            foreach (var metric in metrics)
            {
                output.WriteLine($"{metric.Scope} {metric.Name} [{metric.Unit}] {metric.Kind}");
            }

            var loopDoctor = metrics.Where(m => m.Scope == LoopDoctorInstruments.MeterName).ToList();
            Assert.Contains(new OtlpMetricsDecoder.ExportedMetric("LoopDoctor", "loopdoctor.thread_pool.queue.delay", "s", "histogram"), loopDoctor);
            // Only the LoopDoctor meter was added: the agent must not push System.Runtime or its own pipeline's data into the host's.
            Assert.All(metrics, m => Assert.Equal(LoopDoctorInstruments.MeterName, m.Scope));
            Assert.All(loopDoctor, m => Assert.StartsWith("loopdoctor.", m.Name));
        }
        finally
        {
            await OnOwnThread(() =>
            {
                provider.Dispose(); // shuts the reader down with a last (blocking) export
                return true;
            });
        }

        Assert.Null(LoopDoctorAgent.Current); // the agent the provider started stopped with it
    }

    /// <summary>The SDK's flush and shutdown block until the export is done: run them on a thread of their own, not on a pool thread.</summary>
    private static Task<T> OnOwnThread<T>(Func<T> action)
        => Task.Factory.StartNew(action, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
}
