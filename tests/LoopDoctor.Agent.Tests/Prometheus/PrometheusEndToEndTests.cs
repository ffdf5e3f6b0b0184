using System.Diagnostics.Metrics;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using LoopDoctor.Agent.Metrics;
using LoopDoctor.Agent.Prometheus;
using Xunit.Abstractions;

using PromTool = LoopDoctor.Testing.PromTool;

namespace LoopDoctor.Agent.Tests.Prometheus;

/// <summary>
/// Real meters (every instrument kind, the agent's LoopDoctor meter, the runtime's System.Runtime meter) → real SDK →
/// <see cref="StandaloneMetricsServer"/> on 127.0.0.1 with an ephemeral port → HttpClient → promtool.
/// </summary>
public sealed class PrometheusEndToEndTests(ITestOutputHelper output)
{
    // Prometheus 2.x's scrape Accept header.
    private const string PrometheusAccept =
        "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

    private sealed class Scenario : IDisposable
    {
        public Scenario(bool includeRuntime)
        {
            MeterName = "e2e." + Guid.NewGuid().ToString("N");
            Meter = new Meter(MeterName, "1.2.3");
            Instruments = new LoopDoctorInstruments();

            // The provider must exist before synchronous instruments record: measurements nobody listens to are dropped.
            string[] meters = includeRuntime
                ? [MeterName, LoopDoctorInstruments.MeterName, PrometheusExposition.RuntimeMeterName]
                : [MeterName, LoopDoctorInstruments.MeterName];
            Exposition = new PrometheusExposition(meters, TimeSpan.FromMilliseconds(300));

            var tag = new KeyValuePair<string, object?>("kind", "a");
            Meter.CreateCounter<long>("e2e.requests", "{request}", "Requests.").Add(5, tag);
            Meter.CreateCounter<double>("e2e.cpu.time", "s", "CPU time.").Add(1.5);
            Meter.CreateObservableCounter("e2e.observed.bytes", () => 2048L, "By", "Observed bytes.");
            Meter.CreateUpDownCounter<long>("e2e.active", "{connection}", "Active connections.").Add(3, tag);
            Meter.CreateObservableUpDownCounter("e2e.queued", () => 4.5, "{item}", "Queued items.");
            Meter.CreateObservableGauge("e2e.utilization", () => 0.25, "1", "Utilization.");
            Meter.CreateGauge<double>("e2e.temperature", "Cel", "Temperature.").Record(21.5, tag);
            var histogram = Meter.CreateHistogram<double>("e2e.latency", "s", "Latency.");
            histogram.Record(0.003, tag);
            histogram.Record(7, tag);

            Instruments.QueueDelay.Record(0.000_03);
            Instruments.QueueDelay.Record(0.2);
            Instruments.TimerLag.Record(0.001);
            Instruments.ThreadInjections.Add(1, new KeyValuePair<string, object?>("reason", "starvation"));
            Instruments.UnobservedExceptions.Add(1, new KeyValuePair<string, object?>("error.type", "System.InvalidOperationException"));
            // A name of our own: the LoopDoctor meter is shared by name with any other agent in the test process.
            GaugeName = $"loopdoctor.e2e_{Guid.NewGuid():N}.outstanding_delay";
            Instruments.CreateGauge(GaugeName, "s", "Delay of the oldest outstanding probe.", () => 0.004);

            GC.Collect(); // so the runtime's GC counters have a value
            try
            {
                throw new InvalidOperationException("so that dotnet.exceptions has a series");
            }
            catch (InvalidOperationException)
            {
            }

            Server = StandaloneMetricsServer.Start("http://127.0.0.1:0/metrics", allowNonLoopbackBinding: false, Exposition);
        }

        public string MeterName { get; }
        public string GaugeName { get; private set; } = "";
        public Meter Meter { get; }
        public LoopDoctorInstruments Instruments { get; }
        public PrometheusExposition Exposition { get; }
        public StandaloneMetricsServer Server { get; }

        public void Dispose()
        {
            Server.Dispose();
            Exposition.Dispose();
            Instruments.Dispose();
            Meter.Dispose();
        }
    }

    private static async Task<(HttpResponseMessage Response, string Body)> GetAsync(Uri url, string? accept = null)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        var response = await http.SendAsync(request);
        return (response, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Text_format_over_HTTP_has_every_instrument_kind_and_passes_promtool_with_runtime_metrics()
    {
        using var scenario = new Scenario(includeRuntime: true);
        Assert.NotEqual(0, scenario.Server.Port);
        Assert.Equal($"http://127.0.0.1:{scenario.Server.Port}/metrics", scenario.Server.Url.ToString());

        var (response, body) = await GetAsync(scenario.Server.Url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType!.ToString());

        var parsed = ExpositionText.Parse(body, openMetrics: false);
        var scope = ("otel_scope_name", scenario.MeterName);
        Assert.Equal(5, parsed.Single("e2e_requests_total", scope, ("kind", "a"), ("otel_scope_version", "1.2.3")).Value);
        Assert.Equal("counter", parsed.Types["e2e_requests_total"]);
        Assert.Equal(1.5, parsed.Single("e2e_cpu_time_seconds_total", scope).Value);
        Assert.Equal(2048, parsed.Single("e2e_observed_bytes_total", scope).Value);
        Assert.Equal(3, parsed.Single("e2e_active", scope).Value);
        Assert.Equal("gauge", parsed.Types["e2e_active"]);
        Assert.Equal(4.5, parsed.Single("e2e_queued", scope).Value);
        Assert.Equal(0.25, parsed.Single("e2e_utilization_ratio", scope).Value);
        Assert.Equal(21.5, parsed.Single("e2e_temperature_celsius", scope).Value);
        Assert.Equal(2, parsed.Single("e2e_latency_seconds_count", scope).Value);
        // Without advice the SDK uses its default buckets (0, 5, 10, 25, ... 10000) even for a unit of seconds.
        Assert.Equal(1, parsed.Single("e2e_latency_seconds_bucket", scope, ("le", "5")).Value);

        // The agent's histograms carry LoopDoctorInstruments.DelayBucketsSeconds (InstrumentAdvice, honoured by the SDK).
        var loopDoctor = ("otel_scope_name", LoopDoctorInstruments.MeterName);
        var delayBuckets = parsed.Named("loopdoctor_thread_pool_queue_delay_seconds_bucket")
            .Where(s => s.Labels["otel_scope_name"] == LoopDoctorInstruments.MeterName).Select(s => s.Labels["le"]).Distinct().ToList();
        Assert.Equal(LoopDoctorInstruments.DelayBucketsSeconds.Length + 1, delayBuckets.Count);
        Assert.Equal("1E-05", delayBuckets[0]);
        Assert.Equal("60", delayBuckets[^2]);
        Assert.True(parsed.Single("loopdoctor_thread_pool_queue_delay_seconds_bucket", loopDoctor, ("le", "5E-05")).Value >= 1);
        Assert.Equal("histogram", parsed.Types["loopdoctor_timer_lag_seconds"]);
        Assert.True(parsed.Single("loopdoctor_thread_pool_thread_injections_total", loopDoctor, ("reason", "starvation")).Value >= 1);
        Assert.True(parsed.Single("loopdoctor_task_unobserved_exceptions_total", loopDoctor, ("error_type", "System.InvalidOperationException")).Value >= 1);
        Assert.Equal(0.004, parsed.Single(scenario.GaugeName.Replace('.', '_') + "_seconds", loopDoctor).Value);

        // System.Runtime (built into .NET 9+), under the OTel → Prometheus names.
        Assert.NotEmpty(parsed.Named("dotnet_gc_collections_total"));
        Assert.NotEmpty(parsed.Named("dotnet_process_cpu_time_seconds_total"));
        // Declared monotonic by the runtime, corrected to gauges (PrometheusMetricStream.CorrectRuntimeInstrumentType).
        Assert.Equal("gauge", parsed.Types["dotnet_thread_pool_threads"]);
        Assert.Equal("gauge", parsed.Types["dotnet_thread_pool_queue_length"]);
        // Gauges renamed away from the reserved _count suffix (PrometheusNaming.RuntimeGaugeNames).
        Assert.Equal("gauge", parsed.Types["dotnet_timers"]);
        Assert.Equal("gauge", parsed.Types["dotnet_assemblies"]);
        Assert.Equal(Environment.ProcessorCount, parsed.Single("dotnet_process_cpus").Value);
        Assert.DoesNotContain(parsed.Types, t => t.Value == "gauge" && Regex.IsMatch(t.Key, "_(total|count|sum|bucket)$"));
        Assert.Equal("counter", parsed.Types["dotnet_thread_pool_work_item_count_total"]);
        Assert.NotEmpty(parsed.Named("dotnet_process_memory_working_set_bytes"));
        Assert.NotEmpty(parsed.Named("dotnet_exceptions_total"));
        output.WriteLine($"{parsed.Samples.Count} samples in {parsed.Types.Count} families, {body.Length} bytes");
        output.WriteLine(string.Join("\n", parsed.Types.Keys.Where(k => k.StartsWith("dotnet_", StringComparison.Ordinal)).Select(k => $"{k} {parsed.Types[k]}")));

        var (exitCode, problems) = await PromTool.CheckMetricsAsync(body);
        foreach (var problem in problems)
        {
            output.WriteLine("promtool: " + problem);
        }

        // Nothing at all: no lint findings (exit 3) and no parse errors (exit 1), System.Runtime included.
        Assert.True(problems.Length == 0, "promtool reported:\n" + string.Join("\n", problems));
        Assert.Equal(0, exitCode);
    }

    [Fact]
    public async Task Text_format_of_agent_and_custom_meters_passes_promtool_with_no_findings_at_all()
    {
        using var scenario = new Scenario(includeRuntime: false);
        var (response, body) = await GetAsync(scenario.Server.Url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("e2e_latency_seconds_bucket", body);

        var (exitCode, problems) = await PromTool.CheckMetricsAsync(body);
        Assert.True(problems.Length == 0, "promtool reported:\n" + string.Join("\n", problems));
        Assert.Equal(0, exitCode);
    }

    [Fact]
    public async Task OpenMetrics_is_negotiated_with_Prometheus_Accept_header_and_is_structurally_valid()
    {
        using var scenario = new Scenario(includeRuntime: true);
        var (response, body) = await GetAsync(scenario.Server.Url, PrometheusAccept);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/openmetrics-text; version=1.0.0; charset=utf-8", response.Content.Headers.ContentType!.ToString());

        // promtool 2.42's `check metrics` parses text 0.0.4 only (it ignores '# EOF' and misreads counter families),
        // so OpenMetrics structure is checked by our strict parser instead.
        var parsed = ExpositionText.Parse(body, openMetrics: true);
        Assert.Equal("counter", parsed.Types["e2e_requests"]);
        Assert.Equal(5, parsed.Single("e2e_requests_total", ("otel_scope_name", scenario.MeterName)).Value);
        Assert.Equal("seconds", parsed.Units["e2e_cpu_time_seconds"]);
        Assert.Equal("counter", parsed.Types["dotnet_process_cpu_time_seconds"]);
        Assert.Equal("seconds", parsed.Units["loopdoctor_thread_pool_queue_delay_seconds"]);
        Assert.Equal("ratio", parsed.Units["e2e_utilization_ratio"]);
        Assert.False(parsed.Units.ContainsKey("e2e_requests")); // {request} is an annotation, not a unit
    }

    /// <summary>
    /// The real Prometheus server (Debian 2.42) scrapes the endpoint. It asks for OpenMetrics first, so this runs our
    /// OpenMetrics output through Prometheus' own strict parser — which promtool cannot do. The target must be up
    /// with no scrape error, values must be queryable, and the <c># UNIT</c> metadata (OpenMetrics-only) must arrive.
    /// </summary>
    [Fact]
    public async Task Real_Prometheus_scrapes_the_endpoint_with_OpenMetrics_without_errors()
    {
        const string PrometheusPath = "/usr/bin/prometheus";
        Assert.True(File.Exists(PrometheusPath), $"prometheus is missing at {PrometheusPath}: install the Debian package 'prometheus' (./test.sh does it)");

        using var scenario = new Scenario(includeRuntime: true);
        var directory = Directory.CreateTempSubdirectory("loopdoctor-prom-");
        var apiPort = FreePort();
        var config = Path.Combine(directory.FullName, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: loopdoctor
                static_configs:
                  - targets: ['127.0.0.1:{scenario.Server.Port}']
            """);

        var start = new ProcessStartInfo(PrometheusPath,
        [
            "--config.file=" + config,
            "--storage.tsdb.path=" + Path.Combine(directory.FullName, "data"),
            $"--web.listen-address=127.0.0.1:{apiPort}",
            "--log.level=warn",
        ])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var prometheus = Process.Start(start) ?? throw new InvalidOperationException("prometheus did not start");
        var logs = new System.Text.StringBuilder();
        prometheus.OutputDataReceived += (_, e) => { lock (logs) { logs.AppendLine(e.Data); } };
        prometheus.ErrorDataReceived += (_, e) => { lock (logs) { logs.AppendLine(e.Data); } };
        prometheus.BeginOutputReadLine();
        prometheus.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{apiPort}"), Timeout = TimeSpan.FromSeconds(5) };
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            JsonElement target = default;
            string health = "unknown";
            while (health == "unknown")
            {
                Assert.False(prometheus.HasExited, "prometheus exited:\n" + logs);
                Assert.True(DateTime.UtcNow < deadline, "prometheus did not scrape the target within 60 s:\n" + logs);
                await Task.Delay(250); // polling an external process for a state change, bounded by the deadline
                try
                {
                    using var targets = JsonDocument.Parse(await http.GetStringAsync("/api/v1/targets"));
                    var active = targets.RootElement.GetProperty("data").GetProperty("activeTargets");
                    if (active.GetArrayLength() == 1)
                    {
                        target = active[0].Clone();
                        health = target.GetProperty("health").GetString()!;
                    }
                }
                catch (HttpRequestException)
                {
                    // Not listening yet.
                }
            }

            Assert.True(health == "up", $"target {health}: {target.GetProperty("lastError").GetString()}");
            Assert.Equal("", target.GetProperty("lastError").GetString());

            using var query = JsonDocument.Parse(await http.GetStringAsync("/api/v1/query?query=e2e_requests_total"));
            var result = Assert.Single(query.RootElement.GetProperty("data").GetProperty("result").EnumerateArray().ToList());
            Assert.Equal("5", result.GetProperty("value")[1].GetString());
            Assert.Equal(scenario.MeterName, result.GetProperty("metric").GetProperty("otel_scope_name").GetString());

            using var metadata = JsonDocument.Parse(await http.GetStringAsync(
                "/api/v1/targets/metadata?metric=loopdoctor_thread_pool_queue_delay_seconds&match_target=" + Uri.EscapeDataString("{job=\"loopdoctor\"}")));
            var entry = Assert.Single(metadata.RootElement.GetProperty("data").EnumerateArray().ToList());
            Assert.Equal("histogram", entry.GetProperty("type").GetString());
            Assert.Equal("seconds", entry.GetProperty("unit").GetString()); // only OpenMetrics carries units
        }
        finally
        {
            prometheus.Kill();
            await prometheus.WaitForExitAsync();
            directory.Delete(recursive: true);
        }
    }

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
