namespace LoopDoctor.Agent.Prometheus;

/// <summary>
/// Turns scrapes into collections: at most one collection runs at a time, scrapes arriving during it await the same
/// result (no second collection, no blocked thread), and the result is reused for <c>cacheDuration</c> after it
/// completes. The scrape that finds nothing cached and nothing running performs the collection on its own thread
/// (it is CPU work: observable callbacks plus serialization); everyone else awaits a <see cref="TaskCompletionSource{T}"/>.
/// Failures are logged and returned as null, never thrown.
/// </summary>
internal sealed class PrometheusCollectionManager
{
    private readonly MeterCollector _collector;
    private readonly PrometheusPullExporter _exporter;
    private readonly TimeSpan _cacheDuration;
    private readonly TimeProvider _time;
    private readonly Action<string>? _log;
    private readonly Lock _lock = new();

    private Task<PrometheusSnapshot?>? _inFlight;
    private PrometheusSnapshot? _cached;
    private long _cachedAt;
    private int _collectionCount;

    public PrometheusCollectionManager(MeterCollector collector, PrometheusPullExporter exporter, TimeSpan cacheDuration, TimeProvider? timeProvider = null, Action<string>? log = null)
    {
        _collector = collector;
        _exporter = exporter;
        _cacheDuration = cacheDuration;
        _time = timeProvider ?? TimeProvider.System;
        _log = log;
    }

    /// <summary>Number of collections actually run (for tests: concurrent or cached scrapes must not add to it).</summary>
    internal int CollectionCount => Volatile.Read(ref _collectionCount);

    /// <summary>The current snapshot, or null when the collection failed (already logged).</summary>
    public ValueTask<PrometheusSnapshot?> GetSnapshotAsync(CancellationToken cancellationToken)
    {
        TaskCompletionSource<PrometheusSnapshot?> completion;
        lock (_lock)
        {
            if (_cached is { } cached && _time.GetElapsedTime(_cachedAt) < _cacheDuration)
            {
                return new ValueTask<PrometheusSnapshot?>(cached);
            }

            if (_inFlight is { } running)
            {
                return new ValueTask<PrometheusSnapshot?>(running.WaitAsync(cancellationToken));
            }

            // Waiters' continuations must not run inline on the collecting thread (they would delay its response).
            completion = new TaskCompletionSource<PrometheusSnapshot?>(TaskCreationOptions.RunContinuationsAsynchronously);
            _inFlight = completion.Task;
        }

        PrometheusSnapshot? result = null;
        try
        {
            result = CollectNow();
        }
        finally
        {
            lock (_lock)
            {
                if (result is not null)
                {
                    _cached = result;
                    _cachedAt = _time.GetTimestamp();
                }

                _inFlight = null;
            }

            completion.SetResult(result);
        }

        return new ValueTask<PrometheusSnapshot?>(result);
    }

    private PrometheusSnapshot? CollectNow()
    {
        Interlocked.Increment(ref _collectionCount);
        try
        {
            var instruments = _collector.Collect();
            return instruments.Count == 0 ? PrometheusSnapshot.Empty : _exporter.Export(instruments);
        }
        catch (Exception ex)
        {
            _log?.Invoke($"Prometheus scrape failed: {ex.GetType().Name}: {ex.Message}");
            return null;
        }
    }
}
