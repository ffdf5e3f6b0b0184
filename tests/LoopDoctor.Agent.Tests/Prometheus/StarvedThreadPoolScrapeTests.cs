using System.Text.RegularExpressions;
using LoopDoctor.Agent.Metrics;
using LoopDoctor.Agent.Prometheus;

namespace LoopDoctor.Agent.Tests.Prometheus;

/// <summary>
/// The reason the standalone server runs on its own thread with blocking sockets: it must answer while the thread
/// pool is starved, which is exactly when LoopDoctor's metrics matter. Starves the real pool, so it runs alone.
/// </summary>
[Collection(AgentCollection.Name)]
public sealed partial class StarvedThreadPoolScrapeTests
{
    [GeneratedRegex(@"^dotnet_thread_pool_queue_length\{[^}]*\} (\d+)$", RegexOptions.Multiline)]
    private static partial Regex QueueLength();

    [Fact]
    public void Scrape_is_answered_while_the_thread_pool_is_starved()
    {
        using var exposition = new PrometheusExposition(
            [LoopDoctorInstruments.MeterName, PrometheusExposition.RuntimeMeterName], TimeSpan.Zero);
        using var server = StandaloneMetricsServer.Start("http://127.0.0.1:0/metrics", false, exposition);
        // None of these is disposed: queued items may still touch them if the test body fails early.
        var release = new ManualResetEventSlim();
        var controlRan = new ManualResetEventSlim();

        // Far more blocking items than the pool will inject threads for during the test (~1-2 per second).
        var blockers = Math.Max(100, Environment.ProcessorCount * 50);
        var finished = new CountdownEvent(blockers);
        for (var i = 0; i < blockers; i++)
        {
            ThreadPool.UnsafeQueueUserWorkItem(_ =>
            {
                try
                {
                    release.Wait(TimeSpan.FromSeconds(60));
                }
                finally
                {
                    finished.Signal();
                }
            }, null);
        }

        ThreadPool.UnsafeQueueUserWorkItem(_ => controlRan.Set(), null);
        try
        {
            // This (test) thread talks blocking sockets, so the client does not need the pool either.
            var response = StandaloneMetricsServerTests.RawRequest(server.Port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");

            Assert.False(controlRan.IsSet, "the pool ran the control item before the scrape ended: it was not starved, the test proves nothing");
            Assert.StartsWith("HTTP/1.1 200 OK", response);
            var queueLength = QueueLength().Match(response);
            Assert.True(queueLength.Success, "no dotnet_thread_pool_queue_length sample");
            Assert.True(long.Parse(queueLength.Groups[1].Value) > 0, "the scrape should show the queued work");
        }
        finally
        {
            release.Set();
            // The next test must start on a drained pool, pass or fail.
            finished.Wait(TimeSpan.FromSeconds(60));
        }

        Assert.True(finished.IsSet, "the blockers did not finish after release");
        Assert.True(controlRan.Wait(TimeSpan.FromSeconds(60)), "the pool did not recover after the blockers were released");
    }
}
