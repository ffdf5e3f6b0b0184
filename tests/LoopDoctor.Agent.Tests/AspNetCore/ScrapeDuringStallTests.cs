using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using LoopDoctor.Agent.Tests.Probes;
using Xunit.Abstractions;

namespace LoopDoctor.Agent.Tests.AspNetCore;

/// <summary>
/// Why the standalone endpoint stays (README, "which endpoint to use"): on one process, Kestrel's official
/// <c>/metrics</c> answers before a full thread-pool stall and not during it (Kestrel serves requests on pool threads),
/// while the agent's <c>MetricsUrl</c>, on its own thread, answers during it.
/// </summary>
[Collection(AgentCollection.Name)]
public sealed class ScrapeDuringStallTests(ITestOutputHelper output)
{
    /// <summary>What a Prometheus scrape_timeout would allow (and what was measured by hand: no answer after 5 s).</summary>
    private static readonly TimeSpan ScrapeTimeout = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task During_a_full_pool_stall_the_official_endpoint_does_not_answer_and_the_standalone_one_does()
    {
        await using var web = await AspNetCoreIntegrationTests.StartWithOfficialEndpointAsync(o => o.MetricsUrl = "http://127.0.0.1:0/metrics");
        var officialPort = web.Address.Port;
        var standalonePort = LoopDoctorAgent.Current!.MetricsEndpoint!.Port;

        // The client is this dedicated thread with blocking sockets: it must not need the pool it stalls.
        await Dedicated.RunAsync(() =>
        {
            Assert.StartsWith("HTTP/1.1 200", Get(officialPort, ScrapeTimeout) ?? "no answer before the stall");
            Assert.StartsWith("HTTP/1.1 200", Get(standalonePort, ScrapeTimeout) ?? "no answer before the stall");

            using var stall = ThreadPoolStall.Begin();
            var clock = Stopwatch.StartNew();
            var official = Get(officialPort, ScrapeTimeout);
            output.WriteLine($"official during the stall: {(official is null ? "no answer" : official.Split('\n')[0])} after {clock.ElapsedMilliseconds} ms");
            Assert.Null(official);

            clock.Restart();
            var standalone = Get(standalonePort, ScrapeTimeout);
            output.WriteLine($"standalone during the stall: {standalone?.Split('\n')[0] ?? "no answer"} after {clock.ElapsedMilliseconds} ms");
            Assert.StartsWith("HTTP/1.1 200", standalone ?? "no answer during the stall");
            Assert.Contains("loopdoctor_thread_pool_queue_delay_current_seconds", standalone);
        }, TimeSpan.FromSeconds(60));

        // Released: Kestrel answers again.
        await Dedicated.RunAsync(() => Assert.StartsWith("HTTP/1.1 200", Get(officialPort, TimeSpan.FromSeconds(30)) ?? "no answer after the stall"));
    }

    /// <summary><c>GET /metrics</c> over a blocking socket; null when no complete answer came within <paramref name="timeout"/>.</summary>
    private static string? Get(int port, TimeSpan timeout)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
        {
            ReceiveTimeout = (int)timeout.TotalMilliseconds,
            SendTimeout = (int)timeout.TotalMilliseconds,
        };
        var deadline = Stopwatch.StartNew();
        try
        {
            // The kernel completes the handshake from the listen backlog, stalled or not: the answer is what tells.
            socket.Connect(IPAddress.Loopback, port);
            socket.Send(Encoding.ASCII.GetBytes("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
            var response = new MemoryStream();
            var buffer = new byte[16384];
            int read;
            while ((read = socket.Receive(buffer)) > 0)
            {
                response.Write(buffer, 0, read);
                if (deadline.Elapsed > timeout)
                {
                    return null;
                }
            }

            return Encoding.UTF8.GetString(response.ToArray());
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
        {
            return null;
        }
    }
}
