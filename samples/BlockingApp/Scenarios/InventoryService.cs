using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace BlockingApp.Scenarios;

/// <summary>
/// The slow dependency of <c>/sync-io</c>: an "inventory service" that answers <c>GET</c> with the 64 KiB inventory file
/// after <see cref="Latency"/>. It stands for <em>another process</em>, so it runs on its own threads (a minimal
/// HTTP/1.1 server: one accept thread, one thread per connection) and never on this app's thread pool. Served by Kestrel
/// in this process, it would need the very pool threads <c>/sync-io</c> blocks, and the scenario would become a
/// self-deadlock rather than the seeds' "blocking I/O".
/// </summary>
public sealed class InventoryService : IDisposable
{
    internal static readonly TimeSpan Latency = TimeSpan.FromMilliseconds(100);
    private static readonly byte[] HeaderEnd = "\r\n\r\n"u8.ToArray();

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly byte[] _response;
    private readonly ConcurrentDictionary<TcpClient, byte> _connections = new();
    private volatile bool _stopping;

    public InventoryService(InventoryFile inventory)
    {
        var body = File.ReadAllBytes(inventory.Path);
        var head = Encoding.ASCII.GetBytes(
            $"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {body.Length}\r\n\r\n");
        _response = [.. head, .. body];
        _listener.Start();
        InventoryUri = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/inventory");
        new Thread(AcceptConnections) { IsBackground = true, Name = "Inventory service accept" }.Start();
    }

    /// <summary>Where the inventory is served, e.g. <c>http://127.0.0.1:40001/inventory</c>.</summary>
    public Uri InventoryUri { get; }

    /// <summary>Client of the service, as an app would hold one (a single <see cref="HttpClient"/> for its lifetime).</summary>
    public HttpClient Http { get; } = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false })
    {
        Timeout = TimeSpan.FromSeconds(30),
    };

    private void AcceptConnections()
    {
        while (!_stopping)
        {
            TcpClient client;
            try
            {
                client = _listener.AcceptTcpClient();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
            {
                return; // stopped
            }

            _connections.TryAdd(client, 0);
            new Thread(() => Serve(client)) { IsBackground = true, Name = "Inventory service connection" }.Start();
        }
    }

    /// <summary>Keep-alive loop: for each request head (GET, no body), wait <see cref="Latency"/> and send the file.</summary>
    private void Serve(TcpClient client)
    {
        try
        {
            using var stream = client.GetStream();
            var buffer = new byte[8192];
            var filled = 0;
            while (!_stopping)
            {
                int end;
                while ((end = buffer.AsSpan(0, filled).IndexOf(HeaderEnd)) < 0)
                {
                    if (filled == buffer.Length)
                    {
                        return; // a request head larger than 8 KiB is not from our client
                    }

                    var read = stream.Read(buffer, filled, buffer.Length - filled);
                    if (read == 0)
                    {
                        return; // the client closed the connection
                    }

                    filled += read;
                }

                var consumed = end + HeaderEnd.Length;
                Buffer.BlockCopy(buffer, consumed, buffer, 0, filled - consumed);
                filled -= consumed;

                Thread.Sleep(Latency); // the service's own latency, on its own thread
                stream.Write(_response);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            // Connection reset or shutting down.
        }
        finally
        {
            _connections.TryRemove(client, out _);
            client.Dispose();
        }
    }

    public void Dispose()
    {
        _stopping = true;
        _listener.Stop();
        foreach (var connection in _connections.Keys)
        {
            connection.Dispose();
        }

        Http.Dispose();
    }
}
