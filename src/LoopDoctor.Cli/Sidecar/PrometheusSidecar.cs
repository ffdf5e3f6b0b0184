using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net.Sockets;
using LoopDoctor.Agent.Prometheus;
using LoopDoctor.Cli.Findings;

namespace LoopDoctor.Cli.Sidecar;

/// <summary>One monitored process as the sidecar's <c>/metrics</c> shows it: the labels its series carry, and its report now.</summary>
internal sealed record SidecarTarget(KeyValuePair<string, object?>[] Labels, Func<DiagnosisReport> Snapshot);

/// <summary>
/// <c>monitor --prometheus-port</c>: serves <c>/metrics</c> for the monitored processes (sidecar mode) with the agent's
/// own exposition code (PrometheusExposition + StandaloneMetricsServer). One process (<c>-p</c>/<c>-n</c>): its
/// <c>process_id</c>/<c>process_name</c> as constant labels. Many (<c>--diagnostic-port</c>, <c>--all</c>): each series
/// labelled <c>pid</c> and <c>process</c>, and a process that is gone is absent from the next scrape.
/// Values are observed from the live diagnoses at scrape time.
/// </summary>
internal sealed class PrometheusSidecar : IDisposable
{
    public const string MeterName = "LoopDoctor.Sidecar";
    private static readonly TimeSpan SnapshotReuse = TimeSpan.FromMilliseconds(250);

    private readonly Meter _meter;
    private readonly PrometheusExposition _exposition;
    private readonly StandaloneMetricsServer _server;
    private readonly Func<IReadOnlyList<SidecarTarget>> _targets;
    private readonly Lock _lock = new();
    private IReadOnlyList<(KeyValuePair<string, object?>[] Labels, DiagnosisReport Report)> _last = [];
    private long _lastAt;
    private bool _taken;

    private PrometheusSidecar(Func<IReadOnlyList<SidecarTarget>> targets, IReadOnlyList<KeyValuePair<string, string>> constantLabels, string address, int port, Action<string> log)
    {
        _targets = targets;
        _meter = new Meter(MeterName);
        _meter.CreateObservableGauge("loopdoctor.thread_pool.threads", () => Each(r => (long)r.ThreadPool.ThreadCountLast), "{thread}",
            "Thread-pool worker threads of the monitored process (last value seen).");
        _meter.CreateObservableGauge("loopdoctor.thread_pool.queue.length", () => Each(r => r.ThreadPool.QueueLengthLast), "{work_item}",
            "Work items waiting in the monitored process's thread-pool queue (last value seen).");
        _meter.CreateObservableCounter("loopdoctor.thread_pool.thread.injections", () => Reports().SelectMany(t => new[]
        {
            Measure(t.Report.ThreadPool.Injections.Starvation, t.Labels, new KeyValuePair<string, object?>("reason", "starvation")),
            Measure(t.Report.ThreadPool.Injections.CooperativeBlocking, t.Labels, new KeyValuePair<string, object?>("reason", "cooperative_blocking")),
        }), "{thread}", "Thread-pool worker injections since loopdoctor attached, by the runtime's reason.");
        _meter.CreateObservableCounter("loopdoctor.thread_pool.blocking_waits", () => Each(r => CountOf(r, FindingKinds.BlockingWait)), "{wait}",
            "Blocking waits on thread-pool threads since loopdoctor attached.");
        _meter.CreateObservableCounter("loopdoctor.lock.contentions", () => Each(r => CountOf(r, FindingKinds.LockContention)), "{contention}",
            "Contended lock acquisitions since loopdoctor attached.");
        _meter.CreateObservableCounter("loopdoctor.thread_pool.long_callbacks", () => Each(r => CountOf(r, FindingKinds.LongCallback)), "{callback}",
            "Work items that held a pool thread longer than the slow-callback threshold since loopdoctor attached.");
        _meter.CreateObservableCounter("loopdoctor.task.unobserved_exceptions", () => Each(r => CountOf(r, FindingKinds.UnobservedTaskException)), "{exception}",
            "Unobserved task exceptions since loopdoctor attached (needs the agent).");
        _meter.CreateObservableGauge("loopdoctor.findings", () => Reports().SelectMany(t => t.Report.Findings
                .GroupBy(f => (f.Kind, Severity: f.Severity.ToString().ToLowerInvariant()))
                .Select(g => Measure((long)g.Count(), t.Labels, new KeyValuePair<string, object?>("kind", g.Key.Kind), new KeyValuePair<string, object?>("severity", g.Key.Severity)))),
            "{finding}", "Current findings of the monitored process by kind and severity (alert on kind=\"thread-pool-starvation\").");

        _exposition = new PrometheusExposition([MeterName], TimeSpan.FromMilliseconds(300), constantLabels, log: log);
        try
        {
            var host = address.Contains(':') ? $"[{address}]" : address;
            _server = StandaloneMetricsServer.Start($"http://{host}:{port.ToString(CultureInfo.InvariantCulture)}/metrics",
                allowNonLoopbackBinding: true, _exposition, log);
        }
        catch (Exception ex) when (ex is SocketException or LoopDoctor.Agent.LoopDoctorConfigurationException)
        {
            _exposition.Dispose();
            _meter.Dispose();
            throw new LoopDoctorException(ExitCode.UsageError, $"Cannot serve /metrics on {address}:{port}: {ex.Message}", ex);
        }
    }

    public Uri Url => _server.Url;

    /// <summary>One process, its identity in constant labels (<c>process_id</c>, <c>process_name</c>).</summary>
    public static PrometheusSidecar Start(TargetInfo target, string address, int port, Func<DiagnosisReport> snapshot, Action<string> log)
    {
        var labels = new[]
        {
            new KeyValuePair<string, string>("process_id", target.ProcessId.ToString(CultureInfo.InvariantCulture)),
            new KeyValuePair<string, string>("process_name", target.ProcessName),
        };
        SidecarTarget[] only = [new SidecarTarget([], snapshot)];
        return new PrometheusSidecar(() => only, labels, address, port, log);
    }

    /// <summary>Many processes: <paramref name="targets"/> lists the live ones at each scrape, each with <c>pid</c>/<c>process</c> labels.</summary>
    public static PrometheusSidecar StartFleet(Func<IReadOnlyList<SidecarTarget>> targets, string address, int port, Action<string> log)
        => new(targets, [], address, port, log);

    public static KeyValuePair<string, object?>[] FleetLabels(TargetInfo target) =>
    [
        new("pid", target.ProcessId.ToString(CultureInfo.InvariantCulture)),
        new("process", target.ProcessName),
    ];

    private static long CountOf(DiagnosisReport report, string kind) => report.Findings.Where(f => f.Kind == kind).Sum(f => f.Count);

    private IEnumerable<Measurement<long>> Each(Func<DiagnosisReport, long> value) => Reports().Select(t => Measure(value(t.Report), t.Labels));

    private static Measurement<long> Measure(long value, KeyValuePair<string, object?>[] labels, params KeyValuePair<string, object?>[] more)
        => new(value, more.Length == 0 ? labels : [.. labels, .. more]);

    private IReadOnlyList<(KeyValuePair<string, object?>[] Labels, DiagnosisReport Report)> Reports()
    {
        lock (_lock)
        {
            // One scrape reads every instrument: build the reports once per scrape, not once per instrument.
            if (!_taken || TimeProvider.System.GetElapsedTime(_lastAt) > SnapshotReuse)
            {
                _last = _targets().Select(t => (t.Labels, t.Snapshot())).ToList();
                _lastAt = TimeProvider.System.GetTimestamp();
                _taken = true;
            }

            return _last;
        }
    }

    public void Dispose()
    {
        _server.Dispose();
        _exposition.Dispose();
        _meter.Dispose();
    }
}
