using System.Diagnostics.Metrics;
using System.Text;
using LoopDoctor.Agent.Prometheus;

namespace LoopDoctor.Agent.Tests.Prometheus;

/// <summary>
/// Exact output for each instrument kind, through the real OpenTelemetry SDK pipeline (a unique meter per test so
/// nothing else in the process shows up). <c>{S}</c> in the expected text stands for the test's meter name.
/// </summary>
public sealed class PrometheusSerializerGoldenTests : IDisposable
{
    private readonly string _meterName = "golden." + Guid.NewGuid().ToString("N");
    private readonly Meter _meter;
    private readonly PrometheusExposition _exposition;

    public PrometheusSerializerGoldenTests()
    {
        _meter = new Meter(_meterName);
        _exposition = new PrometheusExposition([_meterName], TimeSpan.Zero);
    }

    public void Dispose()
    {
        _exposition.Dispose();
        _meter.Dispose();
    }

    private async Task<string> ScrapeAsync(string? accept = null)
    {
        var result = await _exposition.ScrapeAsync(accept);
        Assert.Equal(200, result.StatusCode);
        return Encoding.UTF8.GetString(result.Body.Span);
    }

    private string Expected(string text) => text.Replace("{S}", _meterName).ReplaceLineEndings("\n");

    [Fact]
    public async Task Counter_gets_total_suffix_drops_annotation_unit_and_keeps_tags()
    {
        var counter = _meter.CreateCounter<long>("http.server.requests", "{request}", "Requests served.");
        counter.Add(3, new KeyValuePair<string, object?>("http.method", "GET"));
        counter.Add(2, new KeyValuePair<string, object?>("http.method", "POST"));
        counter.Add(1, new KeyValuePair<string, object?>("http.method", "GET"));

        Assert.Equal(Expected("""
            # HELP http_server_requests_total Requests served.
            # TYPE http_server_requests_total counter
            http_server_requests_total{otel_scope_name="{S}",http_method="GET"} 4
            http_server_requests_total{otel_scope_name="{S}",http_method="POST"} 2

            """), await ScrapeAsync());
    }

    [Fact]
    public async Task Double_counter_with_ms_unit_and_existing_total_suffix()
    {
        var counter = _meter.CreateCounter<double>("work.busy_total", "ms", "Busy time.");
        counter.Add(1.5);
        counter.Add(0.25);

        Assert.Equal(Expected("""
            # HELP work_busy_milliseconds_total Busy time.
            # TYPE work_busy_milliseconds_total counter
            work_busy_milliseconds_total{otel_scope_name="{S}"} 1.75

            """), await ScrapeAsync());
    }

    [Fact]
    public async Task UpDownCounter_and_gauges_are_gauges_with_unit_suffixes()
    {
        var upDown = _meter.CreateUpDownCounter<long>("queue.size", "By", "Bytes queued.");
        upDown.Add(10);
        upDown.Add(-3);
        _meter.CreateObservableGauge("cpu.utilization", () => 0.5, "1", "CPU in use.");
        _meter.CreateObservableUpDownCounter("pool.size", () => 7L, "1", "Ratio only applies to gauges.");

        Assert.Equal(Expected("""
            # HELP queue_size_bytes Bytes queued.
            # TYPE queue_size_bytes gauge
            queue_size_bytes{otel_scope_name="{S}"} 7
            # HELP cpu_utilization_ratio CPU in use.
            # TYPE cpu_utilization_ratio gauge
            cpu_utilization_ratio{otel_scope_name="{S}"} 0.5
            # HELP pool_size Ratio only applies to gauges.
            # TYPE pool_size gauge
            pool_size{otel_scope_name="{S}"} 7

            """), await ScrapeAsync());
    }

    [Fact]
    public async Task Histogram_has_cumulative_le_buckets_ending_in_Inf_then_sum_and_count()
    {
        var histogram = _meter.CreateHistogram("request.duration", "s", "Request latency.", tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 1, 2.5] });
        histogram.Record(0.05, new KeyValuePair<string, object?>("route", "/a"));
        histogram.Record(0.5, new KeyValuePair<string, object?>("route", "/a"));
        histogram.Record(0.7, new KeyValuePair<string, object?>("route", "/a"));
        histogram.Record(10, new KeyValuePair<string, object?>("route", "/a"));

        Assert.Equal(Expected("""
            # HELP request_duration_seconds Request latency.
            # TYPE request_duration_seconds histogram
            request_duration_seconds_bucket{otel_scope_name="{S}",route="/a",le="0.1"} 1
            request_duration_seconds_bucket{otel_scope_name="{S}",route="/a",le="1"} 3
            request_duration_seconds_bucket{otel_scope_name="{S}",route="/a",le="2.5"} 3
            request_duration_seconds_bucket{otel_scope_name="{S}",route="/a",le="+Inf"} 4
            request_duration_seconds_sum{otel_scope_name="{S}",route="/a"} 11.25
            request_duration_seconds_count{otel_scope_name="{S}",route="/a"} 4

            """), await ScrapeAsync());
    }

    // The SDK sorts a point's tags by key (ordinal), so labels come out in that order after the scope label.
    [Fact]
    public async Task Label_values_and_help_are_escaped_and_names_sanitized()
    {
        // OTel instrument names allow [A-Za-z0-9_.-/] and must start with a letter (the SDK drops others), so a
        // leading digit can only reach the sanitizer through tag keys; PrometheusNamingTests covers metric names.
        var counter = _meter.CreateCounter<long>("weird-name/x..y", null, "Line one\nback\\slash \"quoted\"");
        counter.Add(1,
            new KeyValuePair<string, object?>("path", "C:\\dir\n\"x\""),
            new KeyValuePair<string, object?>("1st.key-é", "ü"),
            new KeyValuePair<string, object?>("__reserved", true),
            new KeyValuePair<string, object?>("count", 42));

        Assert.Equal(Expected("""
            # HELP weird_name_x_y_total Line one\nback\\slash "quoted"
            # TYPE weird_name_x_y_total counter
            weird_name_x_y_total{otel_scope_name="{S}",_1st_key_="ü",_reserved="true",count="42",path="C:\\dir\n\"x\""} 1

            """), await ScrapeAsync());
    }

    [Fact]
    public async Task NaN_and_infinities_are_spelled_the_Prometheus_way()
    {
        _meter.CreateObservableGauge("special.values", () => new[]
        {
            new Measurement<double>(double.NaN, new KeyValuePair<string, object?>("v", "nan")),
            new Measurement<double>(double.PositiveInfinity, new KeyValuePair<string, object?>("v", "pinf")),
            new Measurement<double>(double.NegativeInfinity, new KeyValuePair<string, object?>("v", "ninf")),
            new Measurement<double>(-1e-7, new KeyValuePair<string, object?>("v", "tiny")),
            new Measurement<double>(123456789.125, new KeyValuePair<string, object?>("v", "big")),
        }, null, "Special floats.");

        Assert.Equal(Expected("""
            # HELP special_values Special floats.
            # TYPE special_values gauge
            special_values{otel_scope_name="{S}",v="nan"} NaN
            special_values{otel_scope_name="{S}",v="pinf"} +Inf
            special_values{otel_scope_name="{S}",v="ninf"} -Inf
            special_values{otel_scope_name="{S}",v="tiny"} -1E-07
            special_values{otel_scope_name="{S}",v="big"} 123456789.125

            """), await ScrapeAsync());
    }

    [Fact]
    public async Task Streams_mapping_to_one_family_share_one_HELP_and_TYPE_and_conflicts_are_dropped_and_logged()
    {
        var log = new List<string>();
        using var exposition = new PrometheusExposition([_meterName], TimeSpan.Zero, log: m => { lock (log) { log.Add(m); } });
        var dotted = _meter.CreateCounter<long>("jobs.done", null, "Jobs done.");
        var underscored = _meter.CreateCounter<long>("jobs_done", null, "Jobs done (other spelling).");
        // A gauge jobs_done: valid next to jobs_done_total in text 0.0.4, but OpenMetrics names the counter's family
        // jobs_done too, and one family cannot be both; dropped in both formats so they always agree.
        var conflicting = _meter.CreateUpDownCounter<long>("jobs__done", null, "A gauge cannot join a counter family.");
        dotted.Add(1, new KeyValuePair<string, object?>("kind", "a"));
        underscored.Add(2, new KeyValuePair<string, object?>("kind", "b"));
        conflicting.Add(5);

        var expected = Expected("""
            # HELP jobs_done_total Jobs done.
            # TYPE jobs_done_total counter
            jobs_done_total{otel_scope_name="{S}",kind="a"} 1
            jobs_done_total{otel_scope_name="{S}",kind="b"} 2

            """);
        var result = await exposition.ScrapeAsync(null);
        Assert.Equal(expected, Encoding.UTF8.GetString(result.Body.Span));
        var openMetrics = Encoding.UTF8.GetString((await exposition.ScrapeAsync("application/openmetrics-text")).Body.Span);
        Assert.Single(openMetrics.Split('\n'), l => l.StartsWith("# TYPE jobs_done ", StringComparison.Ordinal));
        Assert.Contains("# TYPE jobs_done counter\n", openMetrics);
        lock (log)
        {
            var line = Assert.Single(log); // logged once, not per scrape
            Assert.Contains("'jobs__done'", line);
        }
    }

    [Fact]
    public async Task OpenMetrics_names_counter_family_without_total_adds_UNIT_and_ends_with_EOF()
    {
        var counter = _meter.CreateCounter<double>("cpu.time", "s", "CPU \"time\".");
        counter.Add(2.5);
        var histogram = _meter.CreateHistogram("lag", "s", "Lag.", tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.5] });
        histogram.Record(0.25);
        _meter.CreateObservableGauge("threads", () => 3, "{thread}", "Threads.");

        var text = await ScrapeAsync("application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5");
        Assert.Equal(Expected("""
            # HELP cpu_time_seconds CPU \"time\".
            # TYPE cpu_time_seconds counter
            # UNIT cpu_time_seconds seconds
            cpu_time_seconds_total{otel_scope_name="{S}"} 2.5
            # HELP lag_seconds Lag.
            # TYPE lag_seconds histogram
            # UNIT lag_seconds seconds
            lag_seconds_bucket{otel_scope_name="{S}",le="0.5"} 1
            lag_seconds_bucket{otel_scope_name="{S}",le="+Inf"} 1
            lag_seconds_sum{otel_scope_name="{S}"} 0.25
            lag_seconds_count{otel_scope_name="{S}"} 1
            # HELP threads Threads.
            # TYPE threads gauge
            threads{otel_scope_name="{S}"} 3
            # EOF

            """), text);
        ExpositionText.Parse(text, openMetrics: true);
    }

    [Fact]
    public async Task Empty_pipeline_gives_empty_text_and_bare_EOF_in_OpenMetrics()
    {
        Assert.Equal("", await ScrapeAsync());
        Assert.Equal("# EOF\n", await ScrapeAsync("application/openmetrics-text"));
    }

    [Fact]
    public async Task Constant_labels_come_first_and_win_over_point_tags()
    {
        using var exposition = new PrometheusExposition([_meterName], TimeSpan.Zero,
            [new("process_id", "42"), new("process.name", "my \"app\"")]);
        var counter = _meter.CreateCounter<long>("hits", null, "Hits.");
        counter.Add(1, new KeyValuePair<string, object?>("process_id", "tag loses"), new KeyValuePair<string, object?>("k", "v"));

        var result = await exposition.ScrapeAsync(null);
        Assert.Equal(Expected("""
            # HELP hits_total Hits.
            # TYPE hits_total counter
            hits_total{process_id="42",process_name="my \"app\"",otel_scope_name="{S}",k="v"} 1

            """), Encoding.UTF8.GetString(result.Body.Span));
    }
}
