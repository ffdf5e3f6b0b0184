using System.Globalization;
using LoopDoctor.Testing;
using Xunit.Abstractions;

namespace LoopDoctor.EndToEnd.Tests.Prometheus;

/// <summary>
/// The real Prometheus server scrapes real BlockingApps (<see cref="PrometheusStack"/>); the tests ask its HTTP API what
/// arrived, as a user's dashboard would. Every wait is on a query result with a deadline.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class PrometheusServerTests(PrometheusStack stack, ITestOutputHelper output) : IClassFixture<PrometheusStack>
{
    private const string QueueDelayBucket = "loopdoctor_thread_pool_queue_delay_seconds_bucket";
    private const string Injections = "loopdoctor_thread_pool_thread_injections_total";
    private const string BlockingWaits = "loopdoctor_thread_pool_blocking_waits_total";

    /// <summary>The agent's default LagThreshold (asyncio's slow_callback_duration): "high" means above it.</summary>
    private const double HighSeconds = 0.1;

    /// <summary>
    /// "Low", generously: half the agent's UnhealthyLagThreshold (1 s). The window covers the healthy app's whole life,
    /// startup included, while two other apps start, starve and get attached to on the same 2 cores: one 300 ms
    /// descheduling adds ~30 coordinated-omission samples, a percent of a 20 s life. Measured over 10 runs (load average
    /// ~11): 2.9–137 ms; the blocking target: 7,800–29,700 ms.
    /// </summary>
    private const double LowSeconds = 0.5;

    private static readonly TimeSpan SignalDeadline = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The burst's stalled probes reach the histogram only once the pool has recovered: measured 5–14 s after the
    /// stack started, on 2 cores at load average ~11.
    /// </summary>
    private static readonly TimeSpan RecoveryDeadline = TimeSpan.FromSeconds(45);

    private PrometheusServer Prometheus => stack.Prometheus;

    [Fact]
    public async Task EveryTargetIsScrapedAndUp()
    {
        var up = await Prometheus.QueryUntilAsync("up", r => r.Count(s => s.Value == 1) == 3, SignalDeadline);
        Assert.True(up.Count(s => s.Value == 1) == 3, $"up: {Describe(up)}{Environment.NewLine}{stack.DescribeOutputs()}");
        foreach (var job in new[] { stack.BlockingScrape, stack.HealthyScrape, stack.SidecarScrape })
        {
            Assert.Contains(up, s => s.Label("job") == job.Name && s.Label("instance") == job.Instance && s.Value == 1);
        }
    }

    [Fact]
    public async Task QueueDelayHistogramArrivesWithTargetAndScopeLabels()
    {
        foreach (var job in new[] { stack.BlockingScrape, stack.HealthyScrape })
        {
            var buckets = await Prometheus.QueryUntilAsync($"{QueueDelayBucket}{{job=\"{job.Name}\"}}", r => r.Count > 0, SignalDeadline);
            Assert.True(buckets.Count > 0, $"no {QueueDelayBucket} for job {job.Name}{Environment.NewLine}{stack.DescribeOutputs()}");
            Assert.All(buckets, s =>
            {
                Assert.Equal(job.Instance, s.Label("instance"));
                Assert.Equal("LoopDoctor", s.Label("otel_scope_name"));
                Assert.NotEqual("", s.Label("le"));
            });
            // Cumulative buckets up to +Inf, as the agent declares them (10 µs … 60 s).
            Assert.Contains(buckets, s => s.Label("le") == "+Inf");
            Assert.Contains(buckets, s => s.Label("le") == "0.1");
        }
    }

    [Fact]
    public async Task StarvationInjectionsByReasonAndBlockingWaitsArriveFromTheBlockingTarget()
    {
        // sync-over-async: pool threads block in .Result, so the runtime injects threads (cooperative blocking, then
        // starvation) and the agent counts blocking waits on pool threads.
        var injections = await Prometheus.QueryUntilAsync(
            $"{Injections}{{job=\"{PrometheusStack.BlockingJob}\",reason=~\"starvation|cooperative_blocking\"}} > 0",
            r => r.Count > 0, SignalDeadline);
        Assert.True(injections.Count > 0,
            $"no starvation or cooperative_blocking injections. All injections: {Describe(await Prometheus.QueryAsync(Injections))}{Environment.NewLine}{stack.DescribeOutputs()}");
        Assert.All(injections, s =>
        {
            Assert.Equal(stack.BlockingScrape.Instance, s.Label("instance"));
            Assert.Equal("LoopDoctor", s.Label("otel_scope_name"));
        });

        var waits = await Prometheus.QueryUntilAsync($"{BlockingWaits}{{job=\"{PrometheusStack.BlockingJob}\"}} > 0", r => r.Count > 0, SignalDeadline);
        Assert.True(waits.Count > 0, $"no blocking waits: {Describe(await Prometheus.QueryAsync(BlockingWaits))}");
        Assert.All(waits, s =>
        {
            Assert.Equal(stack.BlockingScrape.Instance, s.Label("instance"));
            Assert.Equal("LoopDoctor", s.Label("otel_scope_name"));
            Assert.Contains(s.Label("wait_source"), new[] { "unknown", "monitor_wait", "other" });
        });
        output.WriteLine($"injections: {Describe(injections)}");
        output.WriteLine($"blocking waits: {Describe(waits)}");
    }

    [Fact]
    public async Task QueueDelayP99IsHighForTheBlockingTargetAndLowForTheHealthyOne()
    {
        // The user's query. The window spans the stack's whole life (under a minute), so the burst and its recovery are
        // in it whenever this test runs.
        const string p99 = $"histogram_quantile(0.99, sum by (le, job) (rate({QueueDelayBucket}[5m])))";
        double P99Of(IReadOnlyList<PrometheusVectorSample> r, string job) =>
            r.FirstOrDefault(s => s.Label("job") == job)?.Value ?? double.NaN;

        var waited = System.Diagnostics.Stopwatch.StartNew();
        var result = await Prometheus.QueryUntilAsync(p99, r => P99Of(r, PrometheusStack.BlockingJob) > HighSeconds, RecoveryDeadline);
        var blocking = P99Of(result, PrometheusStack.BlockingJob);
        output.WriteLine($"blocking p99 above {Ms(HighSeconds)} after {waited.Elapsed.TotalSeconds:0.0} s (stack age {stack.Age.TotalSeconds:0.0} s)");

        // As much data for the healthy target as the blocking one needed: at least five scrapes in the window.
        var scrapes = await Prometheus.QueryUntilAsync(
            $"count_over_time(up{{job=\"{PrometheusStack.HealthyJob}\"}}[5m]) >= 5", r => r.Count > 0, SignalDeadline);
        Assert.True(scrapes.Count > 0, $"the healthy target was not scraped five times{Environment.NewLine}{stack.DescribeOutputs()}");
        result = await Prometheus.QueryAsync(p99);
        var healthy = P99Of(result, PrometheusStack.HealthyJob);
        output.WriteLine($"queue-delay p99: blocking {Ms(blocking)}, healthy {Ms(healthy)}");

        Assert.True(blocking > HighSeconds,
            $"blocking target's queue-delay p99 {Ms(blocking)}, expected > {Ms(HighSeconds)}. {p99} = {Describe(result)}{Environment.NewLine}{stack.DescribeOutputs()}");
        Assert.True(healthy < LowSeconds,
            $"healthy target's queue-delay p99 {Ms(healthy)}, expected < {Ms(LowSeconds)}. {p99} = {Describe(result)}");
    }

    [Fact]
    public async Task SidecarServesTheAttachedProcesssInjectionsAndBlockingWaitsWithProcessLabels()
    {
        // loopdoctor monitor reads the target over EventPipe (the target has no embedded agent) and serves what it saw.
        var pid = stack.SidecarTarget.Pid.ToString(CultureInfo.InvariantCulture);
        var sidecar = $"job=\"{PrometheusStack.SidecarJob}\"";
        void HasTargetLabels(PrometheusVectorSample s)
        {
            Assert.Equal(stack.SidecarScrape.Instance, s.Label("instance"));
            Assert.Equal(pid, s.Label("process_id"));
            Assert.Equal("BlockingApp", s.Label("process_name"));
            Assert.Equal("LoopDoctor.Sidecar", s.Label("otel_scope_name"));
        }

        var injections = await Prometheus.QueryUntilAsync($"{Injections}{{{sidecar}}}",
            r => r.Any(s => s.Label("reason") is "starvation" or "cooperative_blocking" && s.Value > 0), SignalDeadline);
        Assert.True(injections.Any(s => s.Label("reason") is "starvation" or "cooperative_blocking" && s.Value > 0),
            $"sidecar injections: {Describe(injections)}{Environment.NewLine}{stack.DescribeOutputs()}");
        Assert.Equal(["cooperative_blocking", "starvation"], injections.Select(s => s.Label("reason")).Order(StringComparer.Ordinal));
        Assert.All(injections, HasTargetLabels);

        var waits = await Prometheus.QueryUntilAsync($"{BlockingWaits}{{{sidecar}}} > 0", r => r.Count > 0, SignalDeadline);
        Assert.True(waits.Count > 0, $"sidecar blocking waits: {Describe(await Prometheus.QueryAsync(BlockingWaits))}{Environment.NewLine}{stack.DescribeOutputs()}");
        Assert.All(waits, HasTargetLabels);

        // The sidecar's verdict as a series: sync-over-async starves the pool.
        var findings = await Prometheus.QueryUntilAsync($"loopdoctor_findings{{{sidecar},kind=\"thread-pool-starvation\"}}", r => r.Count > 0, SignalDeadline);
        Assert.True(findings.Count > 0, $"no thread-pool-starvation finding: {Describe(await Prometheus.QueryAsync("loopdoctor_findings"))}");
        Assert.All(findings, HasTargetLabels);
        output.WriteLine($"sidecar: {Describe(injections)} {Describe(waits)} {Describe(findings)}");
    }

    [Fact]
    public async Task PromtoolFindsNothingOnTheAgentsAndTheSidecarsRealOutputAndOnlyTheRuntimeCountGaugesOnTheOfficialOne()
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };
        foreach (var (job, family) in new[] { (stack.BlockingScrape, QueueDelayBucket), (stack.SidecarScrape, Injections) })
        {
            var text = await http.GetStringAsync(job.MetricsUrl);
            Assert.Contains(family, text, StringComparison.Ordinal);
            var (exitCode, problems) = await PromTool.CheckMetricsAsync(text);
            Assert.True(exitCode == 0 && problems.Length == 0,
                $"promtool check metrics on {job.Name} ({job.MetricsUrl}) exited {exitCode}:{Environment.NewLine}{string.Join(Environment.NewLine, problems)}");
        }

        // The official exporter (Kestrel's /metrics): LoopDoctor's families pass; what promtool flags is the runtime's
        // *.count gauges it exposes as is, which the agent's own endpoint renames (src/LoopDoctor.Agent/Prometheus/README.md).
        var official = await http.GetStringAsync(stack.HealthyScrape.MetricsUrl);
        Assert.Contains(QueueDelayBucket, official, StringComparison.Ordinal);
        var (_, complaints) = await PromTool.CheckMetricsAsync(official);
        Assert.All(complaints, line => Assert.Matches(@"^dotnet_[a-z_]+_count non-histogram and non-summary metrics should not have ""_count"" suffix$", line));
    }

    private static string Ms(double seconds) => double.IsNaN(seconds) ? "NaN" : (seconds * 1000).ToString("0.#", CultureInfo.InvariantCulture) + " ms";

    private static string Describe(IEnumerable<PrometheusVectorSample> samples) =>
        "[" + string.Join("; ", samples) + "]";
}
