using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using LoopDoctor.Agent.Prometheus;

namespace LoopDoctor.Agent.Tests.Prometheus;

/// <summary>Real HTTP against <see cref="StandaloneMetricsServer"/> on 127.0.0.1 with an ephemeral port.</summary>
public sealed class StandaloneMetricsServerTests : IDisposable
{
    private readonly string _meterName = "server." + Guid.NewGuid().ToString("N");
    private readonly Meter _meter;
    private readonly PrometheusExposition _exposition;
    private readonly List<string> _log = [];

    public StandaloneMetricsServerTests()
    {
        _meter = new Meter(_meterName);
        // A long cache so GET and HEAD see the same snapshot.
        _exposition = new PrometheusExposition([_meterName], TimeSpan.FromMinutes(1), log: Log);
        _meter.CreateCounter<long>("served", null, "Served.").Add(3);
    }

    private void Log(string message)
    {
        lock (_log)
        {
            _log.Add(message);
        }
    }

    public void Dispose()
    {
        _exposition.Dispose();
        _meter.Dispose();
    }

    private StandaloneMetricsServer StartServer(string url = "http://127.0.0.1:0/metrics") =>
        StandaloneMetricsServer.Start(url, allowNonLoopbackBinding: false, _exposition, Log);

    private static HttpClient NewClient() => new() { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Raw HTTP over a blocking socket: for requests HttpClient will not send, and for use without the thread pool.</summary>
    internal static string RawRequest(int port, string request)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
        {
            ReceiveTimeout = 10_000,
            SendTimeout = 10_000,
        };
        socket.Connect(IPAddress.Loopback, port);
        socket.Send(Encoding.ASCII.GetBytes(request));
        var response = new MemoryStream();
        var buffer = new byte[8192];
        int read;
        while ((read = socket.Receive(buffer)) > 0)
        {
            response.Write(buffer, 0, read);
        }

        return Encoding.UTF8.GetString(response.ToArray());
    }

    [Fact]
    public async Task GET_serves_metrics_and_HEAD_the_same_headers_without_body()
    {
        using var server = StartServer();
        using var http = NewClient();

        using var get = await http.GetAsync(server.Url);
        var body = await get.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Contains($"served_total{{otel_scope_name=\"{_meterName}\"}} 3\n", body);

        using var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, server.Url));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(Encoding.UTF8.GetByteCount(body), head.Content.Headers.ContentLength);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", head.Content.Headers.ContentType!.ToString());
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());

        using var withQuery = await http.GetAsync(new Uri(server.Url, "/metrics?debug=1"));
        Assert.Equal(HttpStatusCode.OK, withQuery.StatusCode);
    }

    [Fact]
    public async Task Other_paths_are_404_and_other_methods_405_with_Allow()
    {
        using var server = StartServer("http://localhost:0/custom/path");
        Assert.Equal($"http://127.0.0.1:{server.Port}/custom/path", server.Url.ToString());
        using var http = NewClient();

        using var notFound = await http.GetAsync(new Uri(server.Url, "/metrics"));
        Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);

        using var post = await http.PostAsync(server.Url, new StringContent("x=1"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
        Assert.Equal("GET, HEAD", string.Join(", ", post.Content.Headers.Allow));

        using var ok = await http.GetAsync(server.Url);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Fact]
    public async Task OpenMetrics_is_served_when_asked_for()
    {
        using var server = StartServer();
        var response = await Task.Run(() => RawRequest(server.Port,
            "GET /metrics HTTP/1.1\r\nHost: x\r\naccept: application/openmetrics-text; version=1.0.0\r\n\r\n"));
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", response);
        Assert.Contains("\r\nContent-Type: application/openmetrics-text; version=1.0.0; charset=utf-8\r\n", response);
        Assert.EndsWith("# EOF\n", response);
    }

    [Fact]
    public async Task Malformed_and_oversized_requests_get_4xx_and_the_server_keeps_serving()
    {
        using var server = StartServer();
        Assert.StartsWith("HTTP/1.1 400 ", await Task.Run(() => RawRequest(server.Port, "garbage\r\n\r\n")));
        var huge = "GET /metrics HTTP/1.1\r\nX-Big: " + new string('a', 9000) + "\r\n\r\n";
        Assert.StartsWith("HTTP/1.1 431 ", await Task.Run(() => RawRequest(server.Port, huge)));
        Assert.StartsWith("HTTP/1.1 200 OK", await Task.Run(() => RawRequest(server.Port, "GET /metrics HTTP/1.0\r\n\r\n")));
    }

    [Fact]
    public void Dispose_stops_promptly_even_with_an_idle_client_connected_and_frees_the_port()
    {
        var server = StartServer();
        var port = server.Port;
        using var idle = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        idle.Connect(IPAddress.Loopback, port); // accepted, then the server waits for a request that never comes

        var stopwatch = Stopwatch.StartNew();
        server.Dispose();
        stopwatch.Stop();

        // Without aborting the idle connection, Dispose would wait for the 5 s receive timeout.
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(4), $"Dispose took {stopwatch.Elapsed}");
        var refused = Assert.Throws<SocketException>(() =>
        {
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            probe.Connect(IPAddress.Loopback, port);
        });
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        server.Dispose(); // idempotent
    }

    [Fact]
    public void Port_in_use_throws_SocketException_at_start()
    {
        using var first = StartServer();
        var ex = Assert.Throws<SocketException>(() => StartServer($"http://127.0.0.1:{first.Port}/metrics"));
        Assert.Equal(SocketError.AddressAlreadyInUse, ex.SocketErrorCode);
    }

    [Fact]
    public void Non_loopback_needs_AllowNonLoopbackBinding_and_is_logged()
    {
        var refused = Assert.Throws<LoopDoctorConfigurationException>(
            () => StandaloneMetricsServer.Start("http://0.0.0.0:0/metrics", allowNonLoopbackBinding: false, _exposition, Log));
        Assert.Equal("MetricsUrl", refused.OptionName);

        using var server = StandaloneMetricsServer.Start("http://0.0.0.0:0/metrics", allowNonLoopbackBinding: true, _exposition, Log);
        lock (_log)
        {
            Assert.Contains(_log, m => m.Contains("non-loopback", StringComparison.Ordinal) && m.Contains(server.Port.ToString(), StringComparison.Ordinal));
        }

        Assert.StartsWith("HTTP/1.1 200 OK", RawRequest(server.Port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
    }
}
