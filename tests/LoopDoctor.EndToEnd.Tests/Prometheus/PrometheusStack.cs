using System.Globalization;
using LoopDoctor.EndToEnd.Tests.Infrastructure;
using LoopDoctor.Testing;

namespace LoopDoctor.EndToEnd.Tests.Prometheus;

/// <summary>
/// What the Prometheus end-to-end tests share, started once: a BlockingApp (scraped on the agent's standalone endpoint,
/// which answers while the pool is starved) hit by a 2 s sync-over-async burst from a separate <c>load</c> process, a
/// healthy BlockingApp driving <c>/healthy</c> (scraped on Kestrel's embedded <c>/metrics</c>), a third BlockingApp
/// without the embedded agent driving sync-over-async with <c>loopdoctor monitor --prometheus-port 0</c> attached (the
/// sidecar), and the real Prometheus server scraping all three endpoints each second. Everything is stopped by pid and
/// the temporary directories deleted on dispose.
/// </summary>
/// <remarks>
/// Why a burst: the queue-delay histogram records a probe when it runs. Under a sustained collapse (sync-over-async at
/// 60 rps on 2 cores) no probe runs, the histogram gets nothing new, and <c>rate()</c> over it is 0 (quantile NaN). After
/// a burst the pool recovers and the stalled probes land in the histogram, coordinated-omission corrected.
/// </remarks>
public sealed class PrometheusStack : IAsyncLifetime
{
    public const string BlockingJob = "blocking";
    public const string HealthyJob = "healthy";
    public const string SidecarJob = "sidecar";

    // Run lengths of 2m only bound an orphan's life should the test host die: dispose kills the targets long before.
    private static readonly string[] BlockingArguments = ["--duration", "2m", "--metrics-url", "http://127.0.0.1:0/metrics"];

    // sync-over-async starves a 2-core pool from ~50 rps (samples/BlockingApp/README.md); 60 rps reliably.
    private static readonly string[] BlockingLoadArguments = ["--scenario", "sync-over-async", "--rps", "60", "--duration", "2s", "--drain", "1s"];

    private static readonly string[] HealthyArguments = ["--scenario", "healthy", "--rps", "20", "--duration", "2m", "--drain", "1s"];

    private static readonly string[] SidecarTargetArguments =
        ["--scenario", "sync-over-async", "--rps", "60", "--duration", "2m", "--drain", "1s", "--no-agent"];

    private static readonly TimeSpan AttachTimeout = TimeSpan.FromSeconds(45);

    private static readonly TimeSpan PrometheusStartTimeout = TimeSpan.FromSeconds(30);

    public BlockingAppTarget Blocking { get; private set; } = null!;
    public BlockingAppTarget Healthy { get; private set; } = null!;

    /// <summary><c>BlockingApp load</c>: the burst against <see cref="Blocking"/>.</summary>
    public TestProcess BlockingLoad { get; private set; } = null!;

    /// <summary>The BlockingApp that <see cref="Monitor"/> is attached to.</summary>
    public BlockingAppTarget SidecarTarget { get; private set; } = null!;

    /// <summary><c>loopdoctor monitor -p SidecarTarget --prometheus-port 0</c>.</summary>
    public TestProcess Monitor { get; private set; } = null!;
    public PrometheusServer Prometheus { get; private set; } = null!;
    public PrometheusScrapeJob BlockingScrape { get; private set; } = null!;
    public PrometheusScrapeJob HealthyScrape { get; private set; } = null!;
    public PrometheusScrapeJob SidecarScrape { get; private set; } = null!;

    private readonly System.Diagnostics.Stopwatch _age = System.Diagnostics.Stopwatch.StartNew();

    /// <summary>Time since the targets were started.</summary>
    public TimeSpan Age => _age.Elapsed;

    public async Task InitializeAsync()
    {
        _age.Restart();
        var blocking = BlockingAppTarget.StartAsync(BlockingArguments);
        var healthy = BlockingAppTarget.StartAsync(HealthyArguments);
        var sidecarTarget = BlockingAppTarget.StartAsync(SidecarTargetArguments);
        try
        {
            await Task.WhenAll(blocking, healthy, sidecarTarget);
        }
        finally
        {
            // Whichever started is kept for DisposeAsync (xunit calls it even when InitializeAsync throws).
            Blocking = blocking.IsCompletedSuccessfully ? blocking.Result : null!;
            Healthy = healthy.IsCompletedSuccessfully ? healthy.Result : null!;
            SidecarTarget = sidecarTarget.IsCompletedSuccessfully ? sidecarTarget.Result : null!;
        }

        // The sidecar: port 0 picks a free port, which monitor prints once it serves.
        Monitor = LoopDoctorCli.Start("monitor", "-p", SidecarTarget.Pid.ToString(CultureInfo.InvariantCulture),
            "--prometheus-port", "0", "--duration", "2m");
        var serving = await Monitor.WaitForLineAsync(LoopDoctorCli.SidecarLine(), AttachTimeout, OutputStream.Stderr);

        BlockingScrape = new PrometheusScrapeJob(BlockingJob, Blocking.StandaloneMetricsUrl!);
        HealthyScrape = new PrometheusScrapeJob(HealthyJob, Healthy.KestrelMetricsUrl);
        SidecarScrape = new PrometheusScrapeJob(SidecarJob, new Uri(serving.Groups["url"].Value));
        Prometheus = await PrometheusServer.StartAsync([BlockingScrape, HealthyScrape, SidecarScrape], PrometheusStartTimeout);
        BlockingLoad = TestProcess.StartDotnet(RepoPaths.BlockingAppDll, ["load", "--url", Blocking.BaseAddress.AbsoluteUri, .. BlockingLoadArguments]);
    }

    /// <summary>Every process's output, for failure messages.</summary>
    public string DescribeOutputs() =>
        $"=== Prometheus ==={Environment.NewLine}{Prometheus?.DescribeOutput()}" +
        $"=== blocking BlockingApp ==={Environment.NewLine}{Blocking?.Process.DescribeOutput()}" +
        $"=== its load ==={Environment.NewLine}{BlockingLoad?.DescribeOutput()}" +
        $"=== healthy BlockingApp ==={Environment.NewLine}{Healthy?.Process.DescribeOutput()}" +
        $"=== sidecar's BlockingApp ==={Environment.NewLine}{SidecarTarget?.Process.DescribeOutput()}" +
        $"=== loopdoctor monitor ==={Environment.NewLine}{Monitor?.DescribeOutput()}";

    public async Task DisposeAsync()
    {
        if (Prometheus is not null)
        {
            await Prometheus.DisposeAsync();
        }

        if (Monitor is not null)
        {
            // SIGTERM (as Ctrl+C): monitor ends its EventPipe session and prints its report; killed if it does not stop in time.
            try
            {
                Monitor.Terminate();
                await Monitor.WaitForExitAsync(TimeSpan.FromSeconds(10));
            }
            catch (TestProcessException)
            {
            }

            Monitor.Dispose();
        }

        if (SidecarTarget is not null)
        {
            await SidecarTarget.DisposeAsync();
        }

        BlockingLoad?.Dispose();
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
