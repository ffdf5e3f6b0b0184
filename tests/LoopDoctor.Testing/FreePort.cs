using System.Net;
using System.Net.Sockets;

namespace LoopDoctor.Testing;

/// <summary>
/// A free TCP port on 127.0.0.1, for servers that cannot bind port 0 and report the port they got (Prometheus).
/// The port is free when returned; another process may take it before the server binds it, so callers retry a failed bind.
/// </summary>
public static class FreePort
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
