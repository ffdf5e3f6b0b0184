using System.Text;
using LoopDoctor.Agent.Prometheus;

namespace LoopDoctor.Agent.Tests.Prometheus;

public sealed class PrometheusNamingTests
{
    [Theory]
    [InlineData("http.server.duration", "http_server_duration")]
    [InlineData("9lives", "_9lives")]
    [InlineData("a..b--c", "a_b_c")]
    [InlineData("ns:metric", "ns:metric")]
    [InlineData("mémoire", "m_moire")]
    [InlineData("", "_")]
    public void Metric_names_are_sanitized(string input, string expected)
        => Assert.Equal(expected, PrometheusNaming.SanitizeMetricName(input));

    [Theory]
    [InlineData("gc.heap.generation", "gc_heap_generation")]
    [InlineData("ns:label", "ns_label")]
    [InlineData("__name__", "_name_")]
    [InlineData("0day", "_0day")]
    public void Label_names_are_sanitized_and_never_reserved(string input, string expected)
    {
        Assert.Equal(expected, PrometheusNaming.SanitizeLabelName(input));
        var buffer = new PrometheusBuffer();
        PrometheusSerializer.WriteSanitizedLabelName(buffer, input);
        Assert.Equal(expected, Encoding.UTF8.GetString(buffer.WrittenSpan)); // the allocation-free writer agrees
    }

    [Theory]
    [InlineData("s", false, "seconds")]
    [InlineData("ms", false, "milliseconds")]
    [InlineData("By", false, "bytes")]
    [InlineData("KiBy", false, "kibibytes")]
    [InlineData("{thread}", false, null)]
    [InlineData("{request}", true, null)]
    [InlineData("1", true, "ratio")]
    [InlineData("1", false, null)]
    [InlineData("By/s", false, "bytes_per_second")]
    [InlineData("{packet}/s", false, "per_second")]
    [InlineData("m/s", false, "meters_per_second")]
    [InlineData("%", false, "percent")]
    [InlineData("Cel", false, "celsius")]
    [InlineData("widgets", false, "widgets")]
    [InlineData("", false, null)]
    [InlineData(null, false, null)]
    public void Units_map_to_Prometheus_suffixes(string? unit, bool isGauge, string? expected)
        => Assert.Equal(expected, PrometheusNaming.UnitSuffix(unit, isGauge));

    [Theory]
    [InlineData("loopdoctor.thread_pool.queue.delay", "seconds", "Histogram", "loopdoctor_thread_pool_queue_delay_seconds")]
    [InlineData("requests_total", null, "Counter", "requests")]
    [InlineData("cpu.time_seconds", "seconds", "Counter", "cpu_time_seconds")]
    [InlineData("seconds", "seconds", "Gauge", "seconds_seconds")]
    [InlineData("only_total", null, "Gauge", "only_total")]
    public void Family_names_add_unit_once_and_strip_counter_total(string name, string? unit, string type, string expected)
        => Assert.Equal(expected, PrometheusNaming.FamilyBaseName(name, unit, Enum.Parse<PrometheusMetricType>(type)));

    [Theory]
    // The runtime's gauges get readable plurals (README: "Differences from the OpenTelemetry Prometheus exporter").
    [InlineData("System.Runtime", "dotnet.thread_pool.thread.count", "{thread}", "LongSum", "dotnet_thread_pool_threads", "gauge")]
    [InlineData("System.Runtime", "dotnet.timer.count", "{timer}", "LongSumNonMonotonic", "dotnet_timers", "gauge")]
    [InlineData("System.Runtime", "dotnet.assembly.count", "{assembly}", "LongSumNonMonotonic", "dotnet_assemblies", "gauge")]
    [InlineData("System.Runtime", "dotnet.process.cpu.count", "{cpu}", "LongSumNonMonotonic", "dotnet_process_cpus", "gauge")]
    // Names that are already fine are left alone, including counters whose base name ends in _count.
    [InlineData("System.Runtime", "dotnet.thread_pool.queue.length", "{work_item}", "LongSum", "dotnet_thread_pool_queue_length", "gauge")]
    [InlineData("System.Runtime", "dotnet.thread_pool.work_item.count", "{work_item}", "LongSum", "dotnet_thread_pool_work_item_count_total", "counter")]
    [InlineData("app", "app.connection.count", "{connection}", "LongSum", "app_connection_count_total", "counter")]
    [InlineData("app", "app.memory.count", "By", "LongSumNonMonotonic", "app_memory_count_bytes", "gauge")]
    // Generic fallback: the whole name stays, "_current" is appended.
    [InlineData("app", "app.connection.count", "{connection}", "LongSumNonMonotonic", "app_connection_count_current", "gauge")]
    [InlineData("app", "app.queue.sum", null, "DoubleGauge", "app_queue_sum_current", "gauge")]
    [InlineData("app", "app.le.bucket", null, "LongGauge", "app_le_bucket_current", "gauge")]
    [InlineData("app", "app.memory.total", null, "LongSumNonMonotonic", "app_memory_total_current", "gauge")]
    // The explicit names belong to the runtime's meter only.
    [InlineData("other", "dotnet.timer.count", null, "LongGauge", "dotnet_timer_count_current", "gauge")]
    // Histograms may end in _count/_sum/_bucket but not _total; a counter's own _total is dropped the same way.
    [InlineData("app", "app.batch.count", null, "Histogram", "app_batch_count", "histogram")]
    [InlineData("app", "app.request.total", null, "Histogram", "app_request", "histogram")]
    public void Names_ending_in_a_suffix_reserved_for_another_type_are_renamed(
        string meter, string name, string? unit, string metricType, string exposedName, string prometheusType)
    {
        var stream = PrometheusMetricStream.Create(name, unit, "help", Enum.Parse<MetricType>(metricType), meter, null, []);
        Assert.NotNull(stream);
        Assert.Equal(exposedName, stream.Family.ExposedName);
        Assert.Equal(prometheusType, stream.Family.Type.ToString().ToLowerInvariant());
    }

    [Fact]
    public void Every_explicit_runtime_name_is_a_gauge_name_promlint_accepts()
    {
        foreach (var (otelName, prometheusName) in PrometheusNaming.RuntimeGaugeNames)
        {
            Assert.StartsWith("dotnet_", prometheusName);
            Assert.Equal(prometheusName, PrometheusNaming.SanitizeMetricName(prometheusName));
            Assert.DoesNotMatch("_(total|count|sum|bucket)$", prometheusName);
            Assert.EndsWith(".count", otelName);
        }
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("", false)]
    [InlineData("text/plain", false)]
    [InlineData("*/*", false)]
    [InlineData("application/openmetrics-text", true)]
    [InlineData("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1", true)]
    [InlineData("text/plain;version=0.0.4;q=1,application/openmetrics-text;q=0.5", false)]
    [InlineData("application/openmetrics-text;q=0", false)]
    [InlineData("APPLICATION/OpenMetrics-Text ; q=0.9", true)]
    [InlineData("application/openmetrics-text;q=bogus", false)]
    [InlineData("application/json", false)]
    public void Accept_header_picks_the_format(string? accept, bool openMetrics)
        => Assert.Equal(openMetrics ? PrometheusFormat.OpenMetrics : PrometheusFormat.Text, PrometheusContentNegotiation.Negotiate(accept));

    [Fact]
    public void Content_types_are_the_registered_ones()
    {
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", PrometheusContentNegotiation.ContentTypeOf(PrometheusFormat.Text));
        Assert.Equal("application/openmetrics-text; version=1.0.0; charset=utf-8", PrometheusContentNegotiation.ContentTypeOf(PrometheusFormat.OpenMetrics));
    }

    [Theory]
    [InlineData(0.0, "0")]
    [InlineData(-0.5, "-0.5")]
    [InlineData(1e-5, "1E-05")]
    [InlineData(60.0, "60")]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.PositiveInfinity, "+Inf")]
    [InlineData(double.NegativeInfinity, "-Inf")]
    [InlineData(0.1, "0.1")]
    public void Doubles_are_written_invariant_and_round_trip(double value, string expected)
    {
        var previous = Thread.CurrentThread.CurrentCulture;
        Thread.CurrentThread.CurrentCulture = new System.Globalization.CultureInfo("de-DE"); // comma decimal separator
        try
        {
            var buffer = new PrometheusBuffer(4);
            PrometheusSerializer.WriteDouble(buffer, value);
            Assert.Equal(expected, Encoding.UTF8.GetString(buffer.WrittenSpan));
        }
        finally
        {
            Thread.CurrentThread.CurrentCulture = previous;
        }
    }

    [Fact]
    public void Buffer_grows_and_refuses_beyond_its_cap()
    {
        var buffer = new PrometheusBuffer(1);
        for (var i = 0; i < 10_000; i++)
        {
            PrometheusSerializer.WriteEscapedLabelValue(buffer, "a\"b");
        }

        Assert.Equal(40_000, buffer.Length);
        Assert.Throws<InvalidOperationException>(() => buffer.GetSpan(PrometheusBuffer.MaxCapacity));
    }
}
