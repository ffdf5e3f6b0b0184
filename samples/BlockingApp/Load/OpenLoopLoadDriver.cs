using System.Diagnostics;
using System.Net.Http.Json;
using BlockingApp.Hosting;
using BlockingApp.Scenarios;

namespace BlockingApp.Load;

/// <summary>
/// Drives one scenario endpoint over real HTTP at a fixed rate, open loop (see <see cref="OpenLoopSchedule"/>).
/// <para>
/// Pacing runs on a dedicated thread, never on the thread pool: in <c>--scenario</c> mode the driver shares its process
/// with the server it starves, and a pool-timer or <c>Task.Delay</c> pacer would stall with it and quietly send fewer
/// requests (a closed loop in disguise). Responses still complete on the pool, so in that mode the measured latency
/// includes this process's own queueing, as a co-located client's would; <c>load --url</c> from a second process gives
/// the client-side view of a clean pool.
/// </para>
/// </summary>
internal sealed class OpenLoopLoadDriver : IDisposable
{
    /// <summary>The drain after Ctrl+C / SIGTERM is at most this: the user wants out.</summary>
    public static readonly TimeSpan MaxDrainAfterInterrupt = TimeSpan.FromSeconds(3);

    private static readonly TimeSpan GcRequestTimeout = TimeSpan.FromSeconds(10);

    private readonly ScenarioInfo _scenario;
    private readonly bool _fixed;
    private readonly Uri _baseAddress;
    private readonly Uri _requestUri;
    private readonly OpenLoopSchedule _schedule;
    private readonly TimeSpan _drain;
    private readonly HttpClient _client;
    private readonly CancellationTokenSource _abort = new();
    private readonly ManualResetEventSlim _allResponded = new(false);

    // Guards the counters below: one short critical section per response, on a demo's request rate.
#if NET9_0_OR_GREATER
    private readonly Lock _gate = new();
#else
    private readonly object _gate = new(); // .NET 8 has no System.Threading.Lock
#endif
    private readonly List<double> _latenciesMs = [];
    private readonly Dictionary<string, long> _errors = new(StringComparer.Ordinal);
    private long _sent;
    private long _completed;
    private long _failed;
    private bool _frozen;

    private long _outstanding;
    private volatile bool _pacingDone;

    /// <param name="drain">How long outstanding requests may still complete after the last send before they count as unfinished.</param>
    public OpenLoopLoadDriver(Uri baseAddress, ScenarioInfo scenario, bool isFixed, double requestsPerSecond, TimeSpan? duration, TimeSpan drain)
    {
        _drain = drain;
        _scenario = scenario;
        _fixed = isFixed;
        _baseAddress = baseAddress.AbsolutePath.EndsWith('/') ? baseAddress : new Uri(baseAddress.AbsoluteUri + "/");
        _requestUri = new Uri(_baseAddress, (isFixed ? scenario.FixedPath : scenario.Path).TrimStart('/'));
        _schedule = new OpenLoopSchedule(requestsPerSecond, duration);
        _client = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(15),
        })
        {
            // Requests are cancelled by the driver at the end of the drain, not by a per-request timeout.
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public Uri RequestUri => _requestUri;

    /// <summary>
    /// Runs the load until the planned duration has elapsed or <paramref name="stop"/> is signalled, drains, and summarises.
    /// Blocks the calling thread, which must not be a thread-pool thread (Main's thread is fine).
    /// </summary>
    public LoadSummary Run(CancellationToken stop)
    {
        var started = Stopwatch.GetTimestamp();
        var pacer = new Thread(() => Pace(started, stop)) { IsBackground = true, Name = "BlockingApp load pacer" };
        pacer.Start();
        pacer.Join();
        var elapsed = Stopwatch.GetElapsedTime(started);
        var interrupted = stop.IsCancellationRequested;

        _pacingDone = true;
        if (Interlocked.Read(ref _outstanding) == 0)
        {
            _allResponded.Set();
        }

        _allResponded.Wait(interrupted && _drain > MaxDrainAfterInterrupt ? MaxDrainAfterInterrupt : _drain);

        long sent, completed, failed;
        double[] latencies;
        Dictionary<string, long> errors;
        lock (_gate)
        {
            _frozen = true;
            sent = _sent;
            completed = _completed;
            failed = _failed;
            latencies = [.. _latenciesMs];
            errors = new Dictionary<string, long>(_errors, StringComparer.Ordinal);
        }

        _abort.Cancel(); // whatever is still outstanding is "unfinished"
        Array.Sort(latencies);

        return new LoadSummary(_scenario.Name, _fixed, _requestUri, _schedule.RequestsPerSecond, _schedule.Duration, elapsed,
            interrupted, sent, completed, failed, errors, latencies)
        {
            UnobservedTaskExceptions = _scenario.Name == "fire-and-forget" ? CollectTargetGarbage() : null,
        };
    }

    private void Pace(long started, CancellationToken stop)
    {
        var planned = _schedule.PlannedRequests;
        for (long i = 0; i < planned; i++)
        {
            var due = started + (long)(_schedule.DueTime(i).TotalSeconds * Stopwatch.Frequency);
            var remaining = due - Stopwatch.GetTimestamp();
            if (remaining > 0 && stop.WaitHandle.WaitOne(TimeSpan.FromSeconds((double)remaining / Stopwatch.Frequency)))
            {
                return;
            }

            if (stop.IsCancellationRequested)
            {
                return;
            }

            // Behind schedule (remaining <= 0) the request goes at once: an open loop never skips a due request.
            Send(due);
        }
    }

    private void Send(long dueTimestamp)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, _requestUri);
        lock (_gate)
        {
            _sent++;
        }

        Interlocked.Increment(ref _outstanding);
        Task<HttpResponseMessage> response;
        try
        {
            response = _client.SendAsync(request, HttpCompletionOption.ResponseContentRead, _abort.Token);
        }
        catch (Exception e)
        {
            response = Task.FromException<HttpResponseMessage>(e);
        }

        response.ContinueWith(static (task, state) =>
            {
                var (driver, sentRequest, due) = ((OpenLoopLoadDriver, HttpRequestMessage, long))state!;
                driver.OnResponse(task, sentRequest, due);
            },
            (this, request, dueTimestamp), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private void OnResponse(Task<HttpResponseMessage> task, HttpRequestMessage request, long dueTimestamp)
    {
        var latencyMs = Stopwatch.GetElapsedTime(dueTimestamp).TotalMilliseconds;
        string? error = null;
        var ok = false;
        if (task.IsCompletedSuccessfully)
        {
            using var response = task.Result;
            ok = response.IsSuccessStatusCode;
            error = ok ? null : $"http_{(int)response.StatusCode}";
        }
        else if (!_abort.IsCancellationRequested)
        {
            // Reading Exception observes it (no unobserved exceptions of our own in a process LoopDoctor watches).
            var cause = task.Exception?.InnerException;
            error = cause switch
            {
                HttpRequestException http => http.HttpRequestError.ToString(),
                null => "cancelled",
                _ => cause.GetType().Name,
            };
        }
        else
        {
            _ = task.Exception; // cancelled at the end of the drain: counted as unfinished
        }

        request.Dispose();
        lock (_gate)
        {
            if (!_frozen)
            {
                if (ok)
                {
                    _completed++;
                    _latenciesMs.Add(latencyMs);
                }
                else if (error is not null)
                {
                    _failed++;
                    _errors[error] = _errors.GetValueOrDefault(error) + 1;
                }
            }
        }

        if (Interlocked.Decrement(ref _outstanding) == 0 && _pacingDone)
        {
            _allResponded.Set();
        }
    }

    /// <summary>
    /// fire-and-forget only: asks the target for a full GC (<c>GET /gc</c>) so the dropped faulted tasks are finalized and
    /// <c>TaskScheduler.UnobservedTaskException</c> has fired before anyone reads the counters; returns the target's count.
    /// </summary>
    private long? CollectTargetGarbage()
    {
        try
        {
            using var timeout = new CancellationTokenSource(GcRequestTimeout);
            var report = _client.GetFromJsonAsync<GarbageCollectionReport>(new Uri(_baseAddress, "gc"), timeout.Token)
                .GetAwaiter().GetResult(); // Main's thread, not a pool thread
            return report?.UnobservedTaskExceptions;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or System.Text.Json.JsonException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        _abort.Cancel();
        _client.Dispose();
        _abort.Dispose();
        _allResponded.Dispose();
    }
}
