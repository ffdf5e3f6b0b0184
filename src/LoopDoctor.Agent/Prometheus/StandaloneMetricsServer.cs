using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace LoopDoctor.Agent.Prometheus;

/// <summary>
/// A minimal HTTP/1.1 server for the scrape endpoint in apps without ASP.NET Core (<c>MetricsUrl</c>). It answers
/// GET and HEAD on the configured path (404 elsewhere, 405 for other methods) and closes each connection after one
/// response.
/// <para>
/// It runs on its own dedicated thread with blocking sockets — deliberately not on the thread pool. LoopDoctor's
/// metrics matter most when the pool is starved, and an async server (or HttpListener) needs pool threads to
/// complete its I/O, so it would go dark exactly then. The thread blocks only itself; it never takes or blocks a pool
/// thread. Connections are served one at a time (a scrape endpoint sees one scraper every few seconds), each with
/// 5 s receive/send timeouts so a stuck client cannot hold it for long.
/// </para>
/// Binds loopback unless the address says otherwise (which <see cref="MetricsEndpointAddress.Parse"/> allows only
/// with <c>AllowNonLoopbackBinding</c>). Port 0 binds an ephemeral port; <see cref="Port"/> reports the real one.
/// </summary>
internal sealed class StandaloneMetricsServer : IDisposable
{
    private const int MaxRequestHeaderBytes = 8 * 1024;
    private static readonly TimeSpan IoTimeout = TimeSpan.FromSeconds(5);

    private readonly Socket _listener;
    private readonly PrometheusExposition _exposition;
    private readonly string _path;
    private readonly Action<string>? _log;
    private readonly Thread _thread;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _clientLock = new();
    private Socket? _client;
    private int _disposed;

    private StandaloneMetricsServer(Socket listener, PrometheusExposition exposition, string path, Action<string>? log)
    {
        _listener = listener;
        _exposition = exposition;
        _path = path;
        _log = log;
        var endPoint = (IPEndPoint)listener.LocalEndPoint!;
        Port = endPoint.Port;
        var host = endPoint.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{endPoint.Address}]" : endPoint.Address.ToString();
        Url = new Uri($"http://{host}:{Port.ToString(CultureInfo.InvariantCulture)}{path}");
        _thread = new Thread(AcceptLoop) { IsBackground = true, Name = "LoopDoctor metrics endpoint" };
    }

    /// <summary>The bound port (the real one when the URL asked for port 0).</summary>
    public int Port { get; }

    /// <summary>The URL a scraper should use, with the bound address and port.</summary>
    public Uri Url { get; }

    /// <summary>
    /// Parses <paramref name="metricsUrl"/> (throwing <see cref="LoopDoctorConfigurationException"/> for bad or
    /// forbidden addresses), binds and starts serving. Throws <see cref="SocketException"/> when the port is taken.
    /// </summary>
    public static StandaloneMetricsServer Start(string metricsUrl, bool allowNonLoopbackBinding, PrometheusExposition exposition, Action<string>? log = null)
        => Start(MetricsEndpointAddress.Parse(metricsUrl, allowNonLoopbackBinding, nameof(LoopDoctorOptions.MetricsUrl)), exposition, log);

    public static StandaloneMetricsServer Start(MetricsEndpointAddress address, PrometheusExposition exposition, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(exposition);

        var ip = ResolveBindAddress(address.Host);
        var listener = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (ip.Equals(IPAddress.IPv6Any))
            {
                listener.DualMode = true;
            }

            listener.Bind(new IPEndPoint(ip, address.Port));
            listener.Listen(16);
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        var server = new StandaloneMetricsServer(listener, exposition, address.Path, log);
        if (!IPAddress.IsLoopback(ip))
        {
            log?.Invoke($"LoopDoctor metrics endpoint listens on non-loopback address {server.Url} (AllowNonLoopbackBinding is set).");
        }

        server._thread.Start();
        return server;
    }

    private static IPAddress ResolveBindAddress(string host)
    {
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.Loopback;
        }

        if (IPAddress.TryParse(host.Trim('[', ']'), out var ip))
        {
            return ip;
        }

        // A host name (only reachable with AllowNonLoopbackBinding): bind its first address, IPv4 first.
        var addresses = Dns.GetHostAddresses(host);
        foreach (var address in addresses)
        {
            if (address.AddressFamily == AddressFamily.InterNetwork)
            {
                return address;
            }
        }

        return addresses.Length > 0 ? addresses[0] : throw new SocketException((int)SocketError.HostNotFound);
    }

    private void AcceptLoop()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = _listener.Accept();
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                if (_stopping.IsCancellationRequested)
                {
                    return;
                }

                _log?.Invoke($"LoopDoctor metrics endpoint: accept failed: {ex.Message}");
                // Back off on persistent errors (e.g. out of file descriptors) instead of spinning; this is our own thread.
                Thread.Sleep(100);
                continue;
            }

            lock (_clientLock)
            {
                // Dispose cancels before it takes this lock: either it sees this client and closes it, or we see the stop.
                if (_stopping.IsCancellationRequested)
                {
                    client.Dispose();
                    return;
                }

                _client = client;
            }

            try
            {
                Serve(client);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException or IOException)
            {
                // Client went away, timed out, or we are stopping: nothing to answer.
            }
            catch (Exception ex)
            {
                _log?.Invoke($"LoopDoctor metrics endpoint: request failed: {ex.GetType().Name}: {ex.Message}");
            }
            finally
            {
                lock (_clientLock)
                {
                    _client = null;
                }

                client.Dispose();
            }
        }
    }

    private void Serve(Socket client)
    {
        client.NoDelay = true;
        client.ReceiveTimeout = (int)IoTimeout.TotalMilliseconds;
        client.SendTimeout = (int)IoTimeout.TotalMilliseconds;

        var buffer = new byte[MaxRequestHeaderBytes];
        var length = 0;
        int headerEnd;
        while ((headerEnd = buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8)) < 0)
        {
            if (length == buffer.Length)
            {
                Respond(client, 431, "Request Header Fields Too Large", "Request headers exceed 8 KiB.\n", head: false);
                return;
            }

            var read = client.Receive(buffer, length, buffer.Length - length, SocketFlags.None);
            if (read == 0)
            {
                return;
            }

            length += read;
        }

        var request = Encoding.Latin1.GetString(buffer, 0, headerEnd);
        var lines = request.Split("\r\n");
        var parts = lines[0].Split(' ');
        if (parts.Length != 3 || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
        {
            Respond(client, 400, "Bad Request", "Malformed HTTP request line.\n", head: false);
            return;
        }

        var method = parts[0];
        var target = parts[1];
        var query = target.IndexOf('?');
        var path = query < 0 ? target : target[..query];
        if (!string.Equals(path, _path, StringComparison.Ordinal))
        {
            Respond(client, 404, "Not Found", $"Not found. Metrics are at {_path}\n", head: method == "HEAD");
            return;
        }

        var head = method == "HEAD";
        if (method != "GET" && !head)
        {
            Respond(client, 405, "Method Not Allowed", "Only GET and HEAD are allowed.\n", head: false, extraHeaders: "Allow: GET, HEAD\r\n");
            return;
        }

        string? accept = null;
        for (var i = 1; i < lines.Length; i++)
        {
            var colon = lines[i].IndexOf(':');
            if (colon > 0 && lines[i].AsSpan(0, colon).Trim().Equals("Accept", StringComparison.OrdinalIgnoreCase))
            {
                var value = lines[i][(colon + 1)..].Trim();
                accept = accept is null ? value : accept + "," + value;
            }
        }

        var pending = _exposition.ScrapeAsync(accept, _stopping.Token);
        // Waiting here blocks only this dedicated thread (see the class remarks), never a pool thread.
        var result = pending.IsCompleted ? pending.GetAwaiter().GetResult() : pending.AsTask().GetAwaiter().GetResult();
        var reason = result.StatusCode switch { 200 => "OK", 503 => "Service Unavailable", _ => "Internal Server Error" };
        Send(client, result.StatusCode, reason, result.ContentType, result.Body.Span, head, extraHeaders: null);
    }

    private static void Respond(Socket client, int status, string reason, string message, bool head, string? extraHeaders = null)
        => Send(client, status, reason, "text/plain; charset=utf-8", Encoding.UTF8.GetBytes(message), head, extraHeaders);

    private static void Send(Socket client, int status, string reason, string contentType, ReadOnlySpan<byte> body, bool head, string? extraHeaders)
    {
        var header = string.Create(CultureInfo.InvariantCulture,
            $"HTTP/1.1 {status} {reason}\r\nContent-Type: {contentType}\r\nContent-Length: {body.Length}\r\nCache-Control: no-store\r\nConnection: close\r\n{extraHeaders}\r\n");
        SendAll(client, Encoding.ASCII.GetBytes(header));
        if (!head)
        {
            SendAll(client, body);
        }

        // Half-close so the client reads to EOF; drain what it may still have sent so closing does not reset the
        // connection (a reset can destroy the response before the client reads it).
        client.Shutdown(SocketShutdown.Send);
        Span<byte> drain = stackalloc byte[512];
        var drained = 0;
        while (client.Available > 0 && drained < 64 * 1024)
        {
            var n = client.Receive(drain, SocketFlags.None);
            if (n <= 0)
            {
                break;
            }

            drained += n;
        }
    }

    private static void SendAll(Socket client, ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            var sent = client.Send(bytes, SocketFlags.None);
            bytes = bytes[sent..];
        }
    }

    /// <summary>Stops accepting, aborts a request in progress and waits (up to 5 s) for the server thread to end.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stopping.Cancel();
        _listener.Dispose();
        lock (_clientLock)
        {
            _client?.Dispose();
        }

        if (Thread.CurrentThread == _thread)
        {
            return;
        }

        if (_thread.Join(IoTimeout))
        {
            _stopping.Dispose();
        }
        else
        {
            // Leave the token source to the finalizer: the thread may still read it.
            _log?.Invoke("LoopDoctor metrics endpoint: server thread did not stop within 5 s.");
        }
    }
}
