using LoopDoctor.Agent.Diagnostics;
using LoopDoctor.Agent.Metrics;
using LoopDoctor.Agent.Probes;
using LoopDoctor.Agent.Prometheus;
using LoopDoctor.Agent.RuntimeSignals;

namespace LoopDoctor.Agent;

/// <summary>
/// The one public entry point for apps without ASP.NET Core: <c>using var agent = LoopDoctorAgent.Start(options);</c>.
/// One agent runs per process; <see cref="Current"/> is that agent.
/// </summary>
public sealed class LoopDoctorAgent : IDisposable
{
    private static readonly Lock StartLock = new();
    private static LoopDoctorAgent? _current;

    private readonly LoopDoctorInstruments _instruments;
    private readonly PrometheusExposition? _exposition;
    private StandaloneMetricsServer? _metricsServer;
    private AgentProbes? _probes;
    private RuntimeEventListener? _runtimeEvents;
    private UnobservedTaskExceptionMonitor? _unobservedExceptions;
    private RuntimeMeterFallback? _runtimeMeterFallback;
    private AspNetCoreEndpointMarker? _endpointMarker;
    private int _disposed;

    // Load shedding looks at a short window so it stops shedding soon after the pool recovers.
    private static readonly TimeSpan SheddingWindow = TimeSpan.FromSeconds(2);

    private LoopDoctorAgent(LoopDoctorOptions options)
    {
        Options = options;
        _instruments = new LoopDoctorInstruments();
        // Only for the standalone endpoint (ASP.NET Core apps export through their own MeterProvider), and before any
        // probe records: the SDK drops measurements made before its listener subscribes.
        _exposition = options.MetricsUrl is null ? null : PrometheusExposition.Create(options, log: AgentLog.Write);
    }

    /// <summary>The running agent, or null.</summary>
    public static LoopDoctorAgent? Current => Volatile.Read(ref _current);

    /// <summary>A copy of the validated options this agent runs with.</summary>
    public LoopDoctorOptions Options { get; }

    /// <summary>
    /// Validates <paramref name="options"/> (throwing <see cref="LoopDoctorConfigurationException"/> naming the bad option)
    /// and starts the agent. Throws <see cref="InvalidOperationException"/> when an agent already runs in this process.
    /// </summary>
    public static LoopDoctorAgent Start(LoopDoctorOptions? options = null)
    {
        var copy = (options ?? new LoopDoctorOptions()).Clone();
        copy.Validate();
        lock (StartLock)
        {
            if (_current is not null)
            {
                throw new InvalidOperationException("A LoopDoctor agent is already running in this process; use LoopDoctorAgent.Current.");
            }

            var agent = new LoopDoctorAgent(copy);
            try
            {
                agent.StartComponents();
            }
            catch
            {
                agent.Dispose();
                throw;
            }

            Volatile.Write(ref _current, agent);
            return agent;
        }
    }

    private void StartComponents()
    {
        _probes = AgentProbes.Start(Options, _instruments);
        ReportWhatThisRuntimeLacks();
        if (Options.CaptureThreadInjections || Options.CaptureBlockingWaits || Options.CaptureLockContention)
        {
            _runtimeEvents = new RuntimeEventListener(Options, _instruments, TimeProvider.System);
        }

        if (Options.TrackUnobservedTaskExceptions)
        {
            _unobservedExceptions = new UnobservedTaskExceptionMonitor(Options, _instruments);
        }

        _endpointMarker = AspNetCoreEndpointMarker.Start();

        _instruments.Meter.CreateObservableGauge("loopdoctor.health.status", () => (int)GetThreadPoolHealth().Status, "{status}",
            "Thread-pool health as the health check sees it: 0 healthy, 1 degraded, 2 unhealthy.");

        if (Options.MetricsUrl is { } url && _exposition is not null)
        {
            try
            {
                _metricsServer = StandaloneMetricsServer.Start(url, Options.AllowNonLoopbackBinding, _exposition, AgentLog.Write);
                if (!MetricsEndpointAddress.Parse(url, Options.AllowNonLoopbackBinding, nameof(Options.MetricsUrl)).IsLoopback)
                {
                    AgentLog.Write($"metrics endpoint {url} is bound beyond loopback (AllowNonLoopbackBinding = true)");
                }
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or InvalidOperationException)
            {
                // A taken port must not take the host down with it: run without the endpoint and say why.
                AgentLog.Write($"metrics endpoint {url} could not start: {e.Message}");
            }
        }

        LoopDoctorEventSource.Log.SetAgent(new LoopDoctorEventSource.AgentDescription(Version, Options.Mode.ToString()));
    }

    /// <summary>One line per feature this runtime cannot serve, and the System.Runtime meter's stand-in on .NET 8.</summary>
    private void ReportWhatThisRuntimeLacks()
    {
        var runtime = Environment.Version;
        if (Options.IncludeRuntimeMetrics)
        {
            _runtimeMeterFallback = RuntimeMeterFallback.StartIfNeeded(runtime);
            if (_runtimeMeterFallback is not null)
            {
                AgentLog.Write($".NET {runtime} has no System.Runtime meter (.NET {RuntimeMeterFallback.BuiltInFromMajor}+): the agent publishes its thread-pool, " +
                    $"lock, timer, GC-count and memory instruments itself; not available here: {RuntimeMeterFallback.Missing}.");
            }
        }

        if (Options.CaptureBlockingWaits && runtime.Major < RuntimeKeywords.WaitHandleEventsFromMajor)
        {
            AgentLog.Write($".NET {runtime} emits no WaitHandle events (.NET {RuntimeKeywords.WaitHandleEventsFromMajor}+): " +
                $"{LoopDoctorInstruments.Names.BlockingWaits} and {LoopDoctorInstruments.Names.BlockingWaitDuration} stay at zero " +
                "(loopdoctor diagnose estimates blocking waits from stack samples there).");
        }
    }

    /// <summary>The thread pool's health over <see cref="LoopDoctorOptions.HealthWindow"/>, from the queue-delay probe.</summary>
    public ThreadPoolHealth GetThreadPoolHealth()
    {
        var probe = QueueDelay;
        var window = probe?.GetSnapshot(Options.HealthWindow);
        return ThreadPoolHealthRules.Assess(
            window?.P99 ?? TimeSpan.Zero,
            probe?.CurrentDelay ?? TimeSpan.Zero,
            window?.Count ?? 0,
            _runtimeEvents?.LastStarvationInjection,
            TimeProvider.System.GetUtcNow(),
            Options);
    }

    /// <summary>Probability that load shedding rejects a request now (0 = none, 1 = all): from the larger of the
    /// outstanding probe's wait and the p99 of the last 2 s.</summary>
    internal double GetShedProbability()
    {
        if (QueueDelay is not { } probe)
        {
            return 0;
        }

        var current = probe.CurrentDelay;
        var p99 = probe.GetSnapshot(SheddingWindow).P99;
        return ThreadPoolHealthRules.ShedProbability(current > p99 ? current : p99, Options.LagThreshold);
    }

    /// <summary>Thread-pool queue delay (enqueue → start of a probe work item), or null when the probe is switched off.</summary>
    public LagProbe? QueueDelay => _probes?.QueueDelay;

    /// <summary>How late a timer callback fires against its schedule, or null when the probe is switched off.</summary>
    public LagProbe? TimerLag => _probes?.TimerLag;

    /// <summary>
    /// Probes any <see cref="TaskScheduler"/> (an actor scheduler, a limited-concurrency scheduler) the same way as the
    /// thread pool: a task queued every <see cref="LoopDoctorOptions.ProbeInterval"/>, its start delay recorded as
    /// <c>loopdoctor.scheduler.delay{scheduler=name}</c>. Dispose the probe to stop. One small Task is allocated per sample.
    /// </summary>
    public LagProbe ProbeScheduler(TaskScheduler scheduler, string name) => Probes.ProbeScheduler(scheduler, name);

    /// <summary>
    /// Probes a <see cref="SynchronizationContext"/> (a UI thread, a custom single-threaded loop): a callback posted every
    /// <see cref="LoopDoctorOptions.ProbeInterval"/>, its start delay recorded as <c>loopdoctor.scheduler.delay{scheduler=name}</c>.
    /// </summary>
    public LagProbe ProbeSynchronizationContext(SynchronizationContext context, string name) => Probes.ProbeSynchronizationContext(context, name);

    private AgentProbes Probes => _probes ?? throw new ObjectDisposedException(nameof(LoopDoctorAgent));

    /// <summary>The standalone endpoint's address when <see cref="LoopDoctorOptions.MetricsUrl"/> is set and it started (the real port when the URL asked for port 0).</summary>
    public Uri? MetricsEndpoint => _metricsServer?.Url;

    internal static string Version { get; } =
        typeof(LoopDoctorAgent).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        lock (StartLock)
        {
            if (ReferenceEquals(_current, this))
            {
                Volatile.Write(ref _current, null);
                LoopDoctorEventSource.Log.SetAgent(null);
            }
        }

        _metricsServer?.Dispose();
        _probes?.Dispose();
        _runtimeEvents?.Dispose();
        _unobservedExceptions?.Dispose();
        _endpointMarker?.Dispose();
        _runtimeMeterFallback?.Dispose();
        _exposition?.Dispose();
        _instruments.Dispose();
    }
}

/// <summary>What a metrics endpoint sends back.</summary>
internal readonly record struct MetricsScrapeResult(int StatusCode, string ContentType, ReadOnlyMemory<byte> Body);
