using System.Text;
using LoopDoctor.Agent.Metrics;

namespace LoopDoctor.Agent.Prometheus;

/// <summary>
/// The agent's metrics pipeline: a <see cref="MeterCollector"/> aggregating the given meters cumulatively, an exporter
/// that renders Prometheus text / OpenMetrics, and a collection manager that shares and caches collections between
/// scrapes. <see cref="StandaloneMetricsServer"/> and the CLI's sidecar call <see cref="ScrapeAsync"/>. Disposing it
/// stops the listener.
/// </summary>
internal sealed class PrometheusExposition : IDisposable
{
    /// <summary>The runtime's built-in meter (.NET 9+): GC, JIT, thread pool, locks, timers, exceptions.</summary>
    public const string RuntimeMeterName = "System.Runtime";

    private static readonly byte[] FailureBody =
        Encoding.UTF8.GetBytes("LoopDoctor: metrics collection failed; see the LoopDoctor-Agent event log.\n");

    private static readonly byte[] ShutDownBody = Encoding.UTF8.GetBytes("LoopDoctor: metrics pipeline is shut down.\n");

    private const string FailureContentType = "text/plain; charset=utf-8";

    private readonly MeterCollector _collector;
    private readonly PrometheusCollectionManager _collections;
    private int _disposed;

    /// <param name="meterNames">Meters to export, e.g. <see cref="MeterNamesFor"/>.</param>
    /// <param name="scrapeCacheDuration">How long one collection's bytes answer further scrapes (0 = never reuse).</param>
    /// <param name="constantLabels">Labels added to every sample, e.g. <c>process_id</c> in sidecar mode. Names are sanitized.</param>
    /// <param name="timeProvider">Clock for the cache; tests pass a fake one.</param>
    /// <param name="log">Receives one-line diagnostics (failed collections, name conflicts); never called on a hot path.</param>
    public PrometheusExposition(
        IEnumerable<string> meterNames,
        TimeSpan scrapeCacheDuration,
        IReadOnlyList<KeyValuePair<string, string>>? constantLabels = null,
        TimeProvider? timeProvider = null,
        Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(meterNames);
        ArgumentOutOfRangeException.ThrowIfLessThan(scrapeCacheDuration, TimeSpan.Zero);

        Exporter = new PrometheusPullExporter(constantLabels, log);
        // Prometheus counters and histograms are cumulative, which is how the collector aggregates:
        // https://opentelemetry.io/docs/specs/otel/compatibility/prometheus_and_openmetrics/#sums
        _collector = new MeterCollector(meterNames, log);
        _collections = new PrometheusCollectionManager(_collector, Exporter, scrapeCacheDuration, timeProvider, log);
    }

    /// <summary>Builds the exposition the agent's options ask for: the LoopDoctor meter, plus System.Runtime when enabled.</summary>
    public static PrometheusExposition Create(LoopDoctorOptions options, IReadOnlyList<KeyValuePair<string, string>>? constantLabels = null, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new PrometheusExposition(MeterNamesFor(options), options.ScrapeCacheDuration, constantLabels, timeProvider: null, log);
    }

    public static string[] MeterNamesFor(LoopDoctorOptions options)
        => options.IncludeRuntimeMetrics ? [LoopDoctorInstruments.MeterName, RuntimeMeterName] : [LoopDoctorInstruments.MeterName];

    internal PrometheusPullExporter Exporter { get; }

    /// <summary>Collections actually run so far (cached and shared scrapes do not count).</summary>
    internal int CollectionCount => _collections.CollectionCount;

    /// <summary>
    /// Answers one scrape (<see cref="MetricsScrapeResult.Body"/> is shared, cached bytes: copy them out, never write
    /// into them; 200, 500 when the collection failed, 503 after dispose): negotiates the format from <paramref name="acceptHeader"/>, returns cached bytes, joins a
    /// running collection or runs one. Never throws except <see cref="OperationCanceledException"/> when
    /// <paramref name="cancellationToken"/> is cancelled while waiting for another scrape's collection.
    /// </summary>
    public ValueTask<MetricsScrapeResult> ScrapeAsync(string? acceptHeader, CancellationToken cancellationToken = default)
    {
        var format = PrometheusContentNegotiation.Negotiate(acceptHeader);
        if (Volatile.Read(ref _disposed) != 0)
        {
            return new ValueTask<MetricsScrapeResult>(new MetricsScrapeResult(503, FailureContentType, ShutDownBody));
        }

        var pending = _collections.GetSnapshotAsync(cancellationToken);
        return pending.IsCompletedSuccessfully
            ? new ValueTask<MetricsScrapeResult>(ToResult(pending.Result, format))
            : AwaitScrape(pending, format);
    }

    private static async ValueTask<MetricsScrapeResult> AwaitScrape(ValueTask<PrometheusSnapshot?> pending, PrometheusFormat format)
        => ToResult(await pending.ConfigureAwait(false), format);

    private static MetricsScrapeResult ToResult(PrometheusSnapshot? snapshot, PrometheusFormat format)
        => snapshot is null
            ? new MetricsScrapeResult(500, FailureContentType, FailureBody)
            : new MetricsScrapeResult(200, PrometheusContentNegotiation.ContentTypeOf(format), snapshot.For(format));

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _collector.Dispose();
    }
}
