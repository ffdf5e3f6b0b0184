using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net.Sockets;
using LoopDoctor.Agent.Prometheus;
using LoopDoctor.Cli.Findings;

namespace LoopDoctor.Cli.Sidecar;

/// <summary>
/// <c>monitor --prometheus-port</c>: serves <c>/metrics</c> on 127.0.0.1 for the attached process (sidecar mode), with
/// the agent's own exposition code (PrometheusExposition + StandaloneMetricsServer) and <c>process_id</c>/<c>process_name</c>
/// labels on every sample. Values are observed from the live diagnosis at scrape time.
/// </summary>
internal sealed class PrometheusSidecar : IDisposable
{
    public const string MeterName = "LoopDoctor.Sidecar";
    private static readonly TimeSpan SnapshotReuse = TimeSpan.FromMilliseconds(250);

    private readonly Meter _meter;
    private readonly PrometheusExposition _exposition;
    private readonly StandaloneMetricsServer _server;
    private readonly Func<DiagnosisReport> _snapshot;
    private readonly Lock _lock = new();
    private DiagnosisReport? _last;
    private long _lastAt;

    private PrometheusSidecar(TargetInfo target, int port, Func<DiagnosisReport> snapshot, Action<string> log)
    {
        _snapshot = snapshot;
        _meter = new Meter(MeterName);
        _meter.CreateObservableGauge("loopdoctor.thread_pool.threads", () => (long)Report().ThreadPool.ThreadCountLast, "{thread}",
            "Thread-pool worker threads of the attached process (last value seen).");
        _meter.CreateObservableGauge("loopdoctor.thread_pool.queue.length", () => Report().ThreadPool.QueueLengthLast, "{work_item}",
            "Work items waiting in the attached process's thread-pool queue (last value seen).");
        _meter.CreateObservableCounter("loopdoctor.thread_pool.thread.injections", () =>
        {
            var injections = Report().ThreadPool.Injections;
            return new[]
            {
                new Measurement<long>(injections.Starvation, new KeyValuePair<string, object?>("reason", "starvation")),
                new Measurement<long>(injections.CooperativeBlocking, new KeyValuePair<string, object?>("reason", "cooperative_blocking")),
            };
        }, "{thread}", "Thread-pool worker injections since loopdoctor attached, by the runtime's reason.");
        _meter.CreateObservableCounter("loopdoctor.thread_pool.blocking_waits", () => CountOf(FindingKinds.BlockingWait), "{wait}",
            "Blocking waits on thread-pool threads since loopdoctor attached.");
        _meter.CreateObservableCounter("loopdoctor.lock.contentions", () => CountOf(FindingKinds.LockContention), "{contention}",
            "Contended lock acquisitions since loopdoctor attached.");
        _meter.CreateObservableCounter("loopdoctor.thread_pool.long_callbacks", () => CountOf(FindingKinds.LongCallback), "{callback}",
            "Work items that held a pool thread longer than the slow-callback threshold since loopdoctor attached.");
        _meter.CreateObservableCounter("loopdoctor.task.unobserved_exceptions", () => CountOf(FindingKinds.UnobservedTaskException), "{exception}",
            "Unobserved task exceptions since loopdoctor attached (needs the agent).");
        _meter.CreateObservableGauge("loopdoctor.findings", () => Report().Findings
            .Select(f => new Measurement<long>(1, new KeyValuePair<string, object?>("kind", f.Kind), new KeyValuePair<string, object?>("severity", f.Severity.ToString().ToLowerInvariant()))),
            "{finding}", "Current findings by kind and severity (1 per finding).");

        var labels = new[]
        {
            new KeyValuePair<string, string>("process_id", target.ProcessId.ToString(CultureInfo.InvariantCulture)),
            new KeyValuePair<string, string>("process_name", target.ProcessName),
        };
        _exposition = new PrometheusExposition([MeterName], TimeSpan.FromMilliseconds(300), labels, log: log);
        try
        {
            _server = StandaloneMetricsServer.Start($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/metrics", allowNonLoopbackBinding: false, _exposition, log);
        }
        catch (SocketException ex)
        {
            _exposition.Dispose();
            _meter.Dispose();
            throw new LoopDoctorException(ExitCode.UsageError, $"Cannot serve /metrics on 127.0.0.1:{port}: {ex.Message}", ex);
        }
    }

    public Uri Url => _server.Url;

    public static PrometheusSidecar Start(TargetInfo target, int port, Func<DiagnosisReport> snapshot, Action<string> log) =>
        new(target, port, snapshot, log);

    private long CountOf(string kind) => Report().Findings.Where(f => f.Kind == kind).Sum(f => f.Count);

    private DiagnosisReport Report()
    {
        lock (_lock)
        {
            // One scrape reads every instrument: build the report once per scrape, not once per instrument.
            if (_last is null || TimeProvider.System.GetElapsedTime(_lastAt) > SnapshotReuse)
            {
                _last = _snapshot();
                _lastAt = TimeProvider.System.GetTimestamp();
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
