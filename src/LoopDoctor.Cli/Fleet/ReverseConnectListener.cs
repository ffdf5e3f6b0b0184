using System.Net.Sockets;

namespace LoopDoctor.Cli.Fleet;

/// <summary>
/// <c>monitor --diagnostic-port PATH</c>: listens on a Unix socket that runtimes started with
/// <c>DOTNET_DiagnosticPorts=PATH,nosuspend</c> connect to (reverse-connect mode, as dotnet-monitor and
/// <c>dotnet-trace --diagnostic-port</c> use it). Each runtime's first connection announces it; the connection is then
/// held, unused: a runtime reconnects only after its connection is closed, so the held one closes exactly when the
/// process exits, which is how its departure is seen.
/// </summary>
internal sealed class ReverseConnectListener : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private readonly Func<RuntimeAdvertisement, Task, Task> _onConnected;
    private readonly Action<string> _log;

    private ReverseConnectListener(Socket listener, string path, Func<RuntimeAdvertisement, Task, Task> onConnected, Action<string> log)
    {
        _listener = listener;
        Path = path;
        _onConnected = onConnected;
        _log = log;
        _accepting = Task.Run(AcceptLoopAsync);
    }

    public string Path { get; }

    /// <summary>
    /// Binds <paramref name="path"/> (a stale socket file left by an earlier run is replaced) and accepts runtimes.
    /// <paramref name="onConnected"/> gets each runtime once, with a task that completes when its process is gone.
    /// </summary>
    public static ReverseConnectListener Start(string path, Func<RuntimeAdvertisement, Task, Task> onConnected, Action<string> log)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (File.Exists(full))
        {
            if (IsRegularFile(full))
            {
                throw new LoopDoctorException(ExitCode.UsageError, $"--diagnostic-port {path}: a file that is not a socket is in the way.");
            }

            if (SomeoneListens(full))
            {
                throw new LoopDoctorException(ExitCode.UsageError, $"--diagnostic-port {path}: another process already listens there.");
            }

            File.Delete(full); // a stale socket left by an earlier run
        }

        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(full));
            socket.Listen(128);
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw new LoopDoctorException(ExitCode.UsageError, $"Cannot listen on --diagnostic-port {path}: {ex.Message}", ex);
        }

        return new ReverseConnectListener(socket, full, onConnected, log);
    }

    private static bool SomeoneListens(string path)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static bool IsRegularFile(string path)
    {
        try
        {
            // A regular file can be read; a socket cannot be opened as a file.
            using var stream = File.OpenRead(path);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    private async Task AcceptLoopAsync()
    {
        var seen = new HashSet<Guid>();
        while (!_stop.IsCancellationRequested)
        {
            Socket connection;
            try
            {
                connection = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException && _stop.IsCancellationRequested)
            {
                return;
            }

            _ = HandleAsync(connection, seen);
        }
    }

    private async Task HandleAsync(Socket connection, HashSet<Guid> seen)
    {
        try
        {
            var buffer = new byte[RuntimeAdvertisement.Size];
            var read = 0;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
            {
                timeout.CancelAfter(TimeSpan.FromSeconds(10));
                while (read < buffer.Length)
                {
                    var n = await connection.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, timeout.Token).ConfigureAwait(false);
                    if (n == 0)
                    {
                        connection.Dispose();
                        return;
                    }

                    read += n;
                }
            }

            if (RuntimeAdvertisement.TryParse(buffer) is not { } advertisement)
            {
                _log($"a connection on {Path} did not announce a .NET runtime; closed it.");
                connection.Dispose();
                return;
            }

            bool first;
            lock (seen)
            {
                first = seen.Add(advertisement.RuntimeInstanceCookie);
            }

            if (!first)
            {
                // A runtime reconnecting (we closed an earlier connection): it is already being watched.
                connection.Dispose();
                return;
            }

            var gone = WaitForCloseAsync(connection);
            await _onConnected(advertisement, gone).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            connection.Dispose();
        }
    }

    /// <summary>Completes when the runtime's end of <paramref name="connection"/> closes (the process exited) or on dispose.</summary>
    private async Task WaitForCloseAsync(Socket connection)
    {
        var buffer = new byte[64];
        try
        {
            // The runtime never writes after its announcement: any read returning 0 is the close.
            while (await connection.ReceiveAsync(buffer, SocketFlags.None, _stop.Token).ConfigureAwait(false) > 0)
            {
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            connection.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        try
        {
            await _accepting.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }

        try
        {
            File.Delete(Path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        _stop.Dispose();
    }
}
