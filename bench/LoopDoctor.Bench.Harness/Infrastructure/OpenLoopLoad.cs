using System.Diagnostics;

namespace LoopDoctor.Bench.Infrastructure;

/// <summary>
/// Open-loop load from the harness: request i is sent at i / rps whatever earlier ones did, paced by a dedicated
/// thread (not the pool), so the instant the first request of a phase leaves is known exactly (<see cref="FirstSentAt"/>).
/// </summary>
internal sealed class OpenLoopLoad : IDisposable
{
    private static readonly HttpClient Client = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
    {
        Timeout = TimeSpan.FromSeconds(30),
    };

    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _pacer;
    private readonly ManualResetEventSlim _firstSent = new();
    private long _sent, _completed, _failed;

    private OpenLoopLoad(string url, double rps)
    {
        _pacer = new Thread(() => Pace(url, rps)) { IsBackground = true, Name = "bench load pacer" };
    }

    /// <summary>Stopwatch timestamp of the first request sent.</summary>
    public long FirstSentAt { get; private set; }

    public long Sent => Interlocked.Read(ref _sent);

    public long Completed => Interlocked.Read(ref _completed);

    public long Failed => Interlocked.Read(ref _failed);

    public static OpenLoopLoad Start(string url, double rps)
    {
        var load = new OpenLoopLoad(url, rps);
        load._pacer.Start();
        if (!load._firstSent.Wait(TimeSpan.FromSeconds(10)))
        {
            throw new BenchException($"load on {url} did not start");
        }

        return load;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _pacer.Join(TimeSpan.FromSeconds(5));
    }

    private void Pace(string url, double rps)
    {
        long start = Stopwatch.GetTimestamp();
        for (long i = 0; !_stop.IsCancellationRequested; i++)
        {
            var due = TimeSpan.FromSeconds(i / rps);
            var wait = due - Stopwatch.GetElapsedTime(start);
            if (wait > TimeSpan.Zero && _stop.Token.WaitHandle.WaitOne(wait))
            {
                return;
            }

            if (i == 0)
            {
                FirstSentAt = Stopwatch.GetTimestamp();
                _firstSent.Set();
            }

            Interlocked.Increment(ref _sent);
            _ = SendAsync(url);
        }
    }

    private async Task SendAsync(string url)
    {
        try
        {
            using var response = await Client.GetAsync(url, _stop.Token).ConfigureAwait(false);
            Interlocked.Increment(ref response.IsSuccessStatusCode ? ref _completed : ref _failed);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            Interlocked.Increment(ref _failed);
        }
    }
}
