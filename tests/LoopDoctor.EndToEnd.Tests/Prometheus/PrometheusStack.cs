using LoopDoctor.EndToEnd.Tests.Infrastructure;
using LoopDoctor.Testing;

namespace LoopDoctor.EndToEnd.Tests.Prometheus;

/// <summary>
/// What the Prometheus end-to-end tests share, started once: a BlockingApp driving its own sync-over-async load
/// (scraped on the agent's standalone endpoint, which answers while the pool is starved), a healthy BlockingApp
/// driving <c>/healthy</c> (scraped on Kestrel's embedded <c>/metrics</c>), and the real Prometheus server scraping
/// both each second. Everything is killed by pid and the temporary directories deleted on dispose.
/// </summary>
public sealed class PrometheusStack : IAsyncLifetime
{
    public const string BlockingJob = "blocking";
    public const string HealthyJob = "healthy";

    // sync-over-async starves a 2-core pool from ~50 rps (samples/BlockingApp/README.md); 60 rps reliably. The run
    // length only bounds an orphan's life should the test host die: dispose kills the targets long before.
    private static readonly string[] BlockingArguments =
        ["--scenario", "sync-over-async", "--rps", "60", "--duration", "2m", "--drain", "1s", "--metrics-url", "http://127.0.0.1:0/metrics"];

    private static readonly string[] HealthyArguments = ["--scenario", "healthy", "--rps", "20", "--duration", "2m", "--drain", "1s"];

    private static readonly TimeSpan PrometheusStartTimeout = TimeSpan.FromSeconds(30);

    public BlockingAppTarget Blocking { get; private set; } = null!;
    public BlockingAppTarget Healthy { get; private set; } = null!;
    public PrometheusServer Prometheus { get; private set; } = null!;
    public PrometheusScrapeJob BlockingScrape { get; private set; } = null!;
    public PrometheusScrapeJob HealthyScrape { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var blocking = BlockingAppTarget.StartAsync(BlockingArguments);
        var healthy = BlockingAppTarget.StartAsync(HealthyArguments);
        try
        {
            await Task.WhenAll(blocking, healthy);
        }
        finally
        {
            // Whichever started is kept for DisposeAsync (xunit calls it even when InitializeAsync throws).
            Blocking = blocking.IsCompletedSuccessfully ? blocking.Result : null!;
            Healthy = healthy.IsCompletedSuccessfully ? healthy.Result : null!;
        }

        BlockingScrape = new PrometheusScrapeJob(BlockingJob, Blocking.StandaloneMetricsUrl!);
        HealthyScrape = new PrometheusScrapeJob(HealthyJob, Healthy.KestrelMetricsUrl);
        Prometheus = await PrometheusServer.StartAsync([BlockingScrape, HealthyScrape], PrometheusStartTimeout);
    }

    /// <summary>Every process's output, for failure messages.</summary>
    public string DescribeOutputs() =>
        $"=== Prometheus ==={Environment.NewLine}{Prometheus?.DescribeOutput()}" +
        $"=== blocking BlockingApp ==={Environment.NewLine}{Blocking?.Process.DescribeOutput()}" +
        $"=== healthy BlockingApp ==={Environment.NewLine}{Healthy?.Process.DescribeOutput()}";

    public async Task DisposeAsync()
    {
        if (Prometheus is not null)
        {
            await Prometheus.DisposeAsync();
        }

        if (Blocking is not null)
        {
            await Blocking.DisposeAsync();
        }

        if (Healthy is not null)
        {
            await Healthy.DisposeAsync();
        }
    }
}
