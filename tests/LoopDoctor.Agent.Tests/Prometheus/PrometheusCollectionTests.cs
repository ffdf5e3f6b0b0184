using System.Diagnostics.Metrics;
using System.Text;
using LoopDoctor.Agent.Prometheus;

namespace LoopDoctor.Agent.Tests.Prometheus;

/// <summary>Sharing, caching and failure handling of collections (real MeterListener pipeline, fake clock for the cache).</summary>
public sealed class PrometheusCollectionTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly string _meterName = "collect." + Guid.NewGuid().ToString("N");
    private readonly Meter _meter;

    public PrometheusCollectionTests()
    {
        _meter = new Meter(_meterName);
    }

    public void Dispose() => _meter.Dispose();

    [Fact]
    public async Task Twenty_concurrent_scrapes_share_one_collection_and_none_blocks()
    {
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var callbacks = 0;
        _meter.CreateObservableGauge("gated", () =>
        {
            Interlocked.Increment(ref callbacks);
            entered.Set();
            // Holds the one collection open while the other scrapes arrive. Runs on the collecting scrape's own
            // dedicated thread (below), not on a pool thread.
            release.Wait(Timeout);
            return 1.0;
        }, null, "Gated.");

        // Cache 0: any sharing seen here comes from joining the running collection, not from the cache.
        using var exposition = new PrometheusExposition([_meterName], TimeSpan.Zero);
        var first = Task.Factory.StartNew(() => exposition.ScrapeAsync(null).AsTask(), CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
        Assert.True(entered.Wait(Timeout), "the first collection never reached the observable callback");

        var others = new List<Task<MetricsScrapeResult>>();
        for (var i = 0; i < 19; i++)
        {
            // Returns at once with a pending task: the caller's thread is not blocked while the collection runs.
            var pending = exposition.ScrapeAsync(i % 2 == 0 ? null : "application/openmetrics-text");
            Assert.False(pending.IsCompleted, $"scrape {i} completed while the collection was still held");
            others.Add(pending.AsTask());
        }

        Assert.False(first.IsCompleted);
        release.Set();
        var results = await Task.WhenAll(others.Append(first)).WaitAsync(Timeout);

        Assert.Equal(1, exposition.CollectionCount);
        Assert.Equal(1, Volatile.Read(ref callbacks));
        Assert.All(results, r => Assert.Equal(200, r.StatusCode));
        var text = results.Where(r => r.ContentType.StartsWith("text/plain", StringComparison.Ordinal)).ToList();
        var openMetrics = results.Where(r => r.ContentType.StartsWith("application/openmetrics-text", StringComparison.Ordinal)).ToList();
        Assert.Equal(11, text.Count);
        Assert.Equal(9, openMetrics.Count);
        Assert.All(text, r => Assert.Contains("gated{", Encoding.UTF8.GetString(r.Body.Span)));
        Assert.All(openMetrics, r => Assert.EndsWith("# EOF\n", Encoding.UTF8.GetString(r.Body.Span)));

        // Nothing is cached (duration 0), so the next scrape collects again.
        (await exposition.ScrapeAsync(null)).Body.ToArray();
        Assert.Equal(2, exposition.CollectionCount);
    }

    [Fact]
    public async Task Cached_bytes_are_reused_until_the_cache_duration_has_passed()
    {
        var clock = new ManualTimeProvider();
        var counter = _meter.CreateCounter<long>("ticks", null, "Ticks.");
        using var exposition = new PrometheusExposition([_meterName], TimeSpan.FromMilliseconds(300), timeProvider: clock);
        counter.Add(1);

        var first = await exposition.ScrapeAsync(null);
        Assert.Equal(1, exposition.CollectionCount);
        Assert.Contains("ticks_total{otel_scope_name=\"" + _meterName + "\"} 1\n", Encoding.UTF8.GetString(first.Body.Span));

        counter.Add(1);
        clock.Advance(TimeSpan.FromMilliseconds(299));
        var cached = await exposition.ScrapeAsync(null);
        var cachedOpenMetrics = await exposition.ScrapeAsync("application/openmetrics-text");
        Assert.Equal(1, exposition.CollectionCount);
        Assert.True(first.Body.Equals(cached.Body), "a cached scrape must hand out the same bytes");
        Assert.Contains("ticks_total{otel_scope_name=\"" + _meterName + "\"} 1\n", Encoding.UTF8.GetString(cachedOpenMetrics.Body.Span));

        clock.Advance(TimeSpan.FromMilliseconds(1));
        var fresh = await exposition.ScrapeAsync(null);
        Assert.Equal(2, exposition.CollectionCount);
        Assert.Contains("ticks_total{otel_scope_name=\"" + _meterName + "\"} 2\n", Encoding.UTF8.GetString(fresh.Body.Span));
    }

    [Fact]
    public async Task A_throwing_observable_callback_does_not_break_the_scrape()
    {
        var log = new List<string>();
        _meter.CreateObservableGauge<double>("broken", (Func<double>)(() => throw new InvalidOperationException("callback bug")), null, "Broken.");
        _meter.CreateObservableGauge("healthy", () => 42.0, null, "Healthy.");
        using var exposition = new PrometheusExposition([_meterName], TimeSpan.Zero, log: m => { lock (log) { log.Add(m); } });

        var result = await exposition.ScrapeAsync(null);

        Assert.Equal(200, result.StatusCode);
        var text = Encoding.UTF8.GetString(result.Body.Span);
        Assert.Contains("healthy{otel_scope_name=\"" + _meterName + "\"} 42\n", text);
        Assert.DoesNotContain("broken{", text);
    }

    private sealed class ThrowingTagValue
    {
        public override string ToString() => throw new InvalidOperationException("tag value bug");
    }

    [Fact]
    public async Task A_failed_collection_is_a_500_with_one_line_is_logged_and_not_cached()
    {
        var log = new List<string>();
        using var exposition = new PrometheusExposition([_meterName], TimeSpan.FromMinutes(1), log: m => { lock (log) { log.Add(m); } });
        // Serializing this tag value throws inside Export: a real failure in the pipeline, not a simulated one.
        _meter.CreateCounter<long>("poisoned", null, "Poisoned.").Add(1, new KeyValuePair<string, object?>("bad", new ThrowingTagValue()));

        var result = await exposition.ScrapeAsync(null);

        Assert.Equal(500, result.StatusCode);
        Assert.Equal("text/plain; charset=utf-8", result.ContentType);
        var body = Encoding.UTF8.GetString(result.Body.Span);
        Assert.Single(body.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        lock (log)
        {
            Assert.Contains(log, m => m.Contains("tag value bug", StringComparison.Ordinal));
        }

        await exposition.ScrapeAsync(null);
        Assert.Equal(2, exposition.CollectionCount); // failures are not cached
    }

    [Fact]
    public async Task A_waiting_scrape_can_be_cancelled_without_disturbing_the_collection()
    {
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        _meter.CreateObservableGauge("gated", () =>
        {
            entered.Set();
            release.Wait(Timeout);
            return 1.0;
        }, null, "Gated.");
        using var exposition = new PrometheusExposition([_meterName], TimeSpan.Zero);
        var first = Task.Factory.StartNew(() => exposition.ScrapeAsync(null).AsTask(), CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
        Assert.True(entered.Wait(Timeout));

        using var cts = new CancellationTokenSource();
        var waiting = exposition.ScrapeAsync(null, cts.Token).AsTask();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(Timeout));

        release.Set();
        Assert.Equal(200, (await first.WaitAsync(Timeout)).StatusCode);
        Assert.Equal(1, exposition.CollectionCount);
    }

    private sealed class ThrowingEqualsTagValue
    {
        public override bool Equals(object? obj) => throw new InvalidOperationException("tag equality bug");
        public override int GetHashCode() => 0;
        public override string ToString() => "x";
    }

    [Fact]
    public async Task A_tag_value_that_throws_in_Equals_never_reaches_the_code_that_records()
    {
        using var exposition = new PrometheusExposition([_meterName], TimeSpan.Zero);
        var counter = _meter.CreateCounter<long>("guarded", null, "Guarded.");
        counter.Add(1, new KeyValuePair<string, object?>("k", new ThrowingEqualsTagValue()));

        // Finding this tag set's point compares the values: the throw is the aggregation's, so the host sees none.
        counter.Add(1, new KeyValuePair<string, object?>("k", new ThrowingEqualsTagValue()));

        var result = await exposition.ScrapeAsync(null);
        Assert.Equal(200, result.StatusCode);
        Assert.Contains("guarded_total{otel_scope_name=\"" + _meterName + "\",k=\"x\"} 1\n", Encoding.UTF8.GetString(result.Body.Span));
    }

    [Fact]
    public async Task Scrape_after_dispose_is_503_not_an_exception()
    {
        var exposition = new PrometheusExposition([_meterName], TimeSpan.Zero);
        exposition.Dispose();
        exposition.Dispose();
        var result = await exposition.ScrapeAsync(null);
        Assert.Equal(503, result.StatusCode);
    }

    [Fact]
    public async Task Name_cache_forgets_streams_of_disposed_meters()
    {
        var transientName = "transient." + Guid.NewGuid().ToString("N");
        using var exposition = new PrometheusExposition([_meterName, transientName], TimeSpan.Zero);
        _meter.CreateObservableGauge("stays", () => 1.0, null, "Stays.");
        using (var transient = new Meter(transientName))
        {
            for (var i = 0; i < 200; i++)
            {
                transient.CreateObservableGauge($"g{i}", () => (double)i, null, "Transient.");
            }

            await exposition.ScrapeAsync(null);
            Assert.Equal(201, exposition.Exporter.CachedStreamCount);
        }

        var text = Encoding.UTF8.GetString((await exposition.ScrapeAsync(null)).Body.Span);
        Assert.DoesNotContain("g199", text);
        Assert.Contains("stays{", text);
        Assert.Equal(1, exposition.Exporter.CachedStreamCount);
    }
}
