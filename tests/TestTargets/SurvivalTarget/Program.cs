// A small HTTP service that knows nothing of LoopDoctor, for "the target survives" tests on .NET 8, 9 and 10.
//   SurvivalTarget [--lifetime SECONDS] [--workload sync-over-async|cpu|lock|unobserved]     (lifetime default 300)
// Serves on 127.0.0.1 (an ephemeral port) from a dedicated thread, so it answers even when the thread pool is busy:
//   GET /ping → "pong"
//   GET /work → runs a few thread-pool tasks, answers "done N" when they are done
// Prints "ready pid=N runtime=V port=P" once it serves. A light background workload runs on the pool all the time;
// --workload adds one that hurts the pool (Workloads.cs) and prints "workload warm" once it has run a few seconds.
// Exits (code 0) when stdin closes or the lifetime ends.
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

var lifetime = TimeSpan.FromSeconds(300);
string? workloadName = null;
for (var i = 0; i < args.Length - 1; i++)
{
    if (args[i] == "--lifetime")
    {
        lifetime = TimeSpan.FromSeconds(double.Parse(args[i + 1], CultureInfo.InvariantCulture));
    }
    else if (args[i] == "--workload")
    {
        workloadName = args[i + 1];
    }
}

var workload = Workloads.For(workloadName);

using var stopping = new CancellationTokenSource();
var listener = new TcpListener(IPAddress.Loopback, 0);
listener.Start();
var port = ((IPEndPoint)listener.LocalEndpoint).Port;

var server = new Thread(() => Serve(listener, stopping.Token)) { IsBackground = true, Name = "http" };
server.Start();

var background = Enumerable.Range(0, 4).Select(_ => Task.Run(() => BackgroundWorkAsync(stopping.Token)))
    .Append(workload is null ? Task.CompletedTask : Task.Run(() => workload(stopping.Token))).ToArray();

Console.WriteLine($"ready pid={Environment.ProcessId} runtime={Environment.Version} port={port}");
Console.Out.Flush();

// Stdin closing is the normal way to stop; the lifetime bounds a run nobody stops.
var stdinClosed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
new Thread(() =>
{
    while (Console.In.ReadLine() is not null)
    {
    }

    stdinClosed.TrySetResult();
}) { IsBackground = true, Name = "stdin" }.Start();
var reason = await Task.WhenAny(stdinClosed.Task, Task.Delay(lifetime)) == stdinClosed.Task ? "stdin closed" : "lifetime over";

stopping.Cancel();
listener.Stop();
try
{
    await Task.WhenAll(background).WaitAsync(TimeSpan.FromSeconds(5));
}
catch (OperationCanceledException)
{
}

Console.WriteLine($"stopping: {reason}");
return 0;

static void Serve(TcpListener listener, CancellationToken stopping)
{
    while (!stopping.IsCancellationRequested)
    {
        Socket client;
        try
        {
            client = listener.AcceptSocket();
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or InvalidOperationException)
        {
            return; // stopped
        }

        try
        {
            var path = ReadRequestPath(client);
            switch (path)
            {
                case "/ping":
                    Respond(client, 200, "pong");
                    break;
                case "/work":
                    // Answered from the pool once the work is done; the server thread goes back to accepting.
                    _ = Task.Run(async () =>
                    {
                        try
                        {
                            var done = await DoWorkAsync();
                            Respond(client, 200, $"done {done}");
                        }
                        catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException)
                        {
                            client.Dispose();
                        }
                    });
                    continue;
                case null:
                    client.Dispose();
                    break;
                default:
                    Respond(client, 404, "not found");
                    break;
            }
        }
        catch (Exception ex) when (ex is SocketException or IOException)
        {
            client.Dispose();
        }
    }
}

// Reads the request line and headers (no body is expected); returns the path, or null when the client went away.
static string? ReadRequestPath(Socket client)
{
    client.ReceiveTimeout = 10_000;
    var received = new StringBuilder();
    var buffer = new byte[1024];
    while (!received.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
    {
        var n = client.Receive(buffer);
        if (n == 0 || received.Length > 16 * 1024)
        {
            return null;
        }

        received.Append(Encoding.ASCII.GetString(buffer, 0, n));
    }

    var requestLine = received.ToString()[..received.ToString().IndexOf("\r\n", StringComparison.Ordinal)].Split(' ');
    return requestLine.Length >= 2 ? requestLine[1] : null;
}

static void Respond(Socket client, int status, string body)
{
    using (client)
    {
        var content = Encoding.UTF8.GetBytes(body);
        var reason = status == 200 ? "OK" : "Not Found";
        var head = Encoding.ASCII.GetBytes(
            $"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {content.Length}\r\nConnection: close\r\n\r\n");
        client.Send(head);
        client.Send(content);
        client.Shutdown(SocketShutdown.Both);
    }
}

// A request's work: a few pool tasks that wait a little and compute a little.
static async Task<int> DoWorkAsync()
{
    var parts = Enumerable.Range(1, 8).Select(i => Task.Run(async () =>
    {
        await Task.Delay(10 * i);
        return Checksum(20_000 + i);
    }));
    var results = await Task.WhenAll(parts);
    return results.Length;
}

// The service's steady background work: timers and a little CPU on the pool.
static async Task BackgroundWorkAsync(CancellationToken stopping)
{
    try
    {
        while (!stopping.IsCancellationRequested)
        {
            await Task.Delay(25, stopping);
            _ = await Task.Run(() => Checksum(50_000), stopping);
        }
    }
    catch (OperationCanceledException)
    {
    }
}

static long Checksum(int count)
{
    long sum = 0;
    for (var i = 0; i < count; i++)
    {
        sum = unchecked((sum * 31) + i);
    }

    return sum;
}
