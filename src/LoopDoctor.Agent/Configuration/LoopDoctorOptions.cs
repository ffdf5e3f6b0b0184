namespace LoopDoctor.Agent;

/// <summary>
/// Settings for the in-process agent. Every property has a safe default; <see cref="Validate"/>
/// rejects nonsense at startup with a message that names the offending option.
/// </summary>
public sealed class LoopDoctorOptions
{
    /// <summary>How often the dedicated sampler thread enqueues a queue-delay probe. Default 10 ms.</summary>
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Measure thread-pool queue delay (enqueue → start of a probe work item).</summary>
    public bool EnableQueueDelayProbe { get; set; } = true;

    /// <summary>Measure how late a timer callback fires against its schedule.</summary>
    public bool EnableTimerLagProbe { get; set; } = true;

    /// <summary>Period of the timer-lag probe's timer. Default 100 ms.</summary>
    public TimeSpan TimerLagInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Queue delay considered "lag", like asyncio's <c>slow_callback_duration</c> (100 ms).
    /// Health turns Degraded when the windowed p99 exceeds it; load shedding starts at 1× and sheds all at 2×;
    /// a <c>QueueDelaySpike</c> event is written when a probe crosses it.
    /// </summary>
    public TimeSpan LagThreshold { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Health turns Unhealthy when the windowed p99 (or the current outstanding delay) exceeds this. Default 1 s.</summary>
    public TimeSpan UnhealthyLagThreshold { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Sliding window that health checks and load shedding look at. Default 10 s.</summary>
    public TimeSpan HealthWindow { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Count thread injections by reason (runtime Threading events, Informational).</summary>
    public bool CaptureThreadInjections { get; set; } = true;

    /// <summary>Count blocking waits on pool threads and their duration (runtime WaitHandle events, Verbose).</summary>
    public bool CaptureBlockingWaits { get; set; } = true;

    /// <summary>Count lock contention and its duration (runtime Contention events).</summary>
    public bool CaptureLockContention { get; set; } = true;

    /// <summary>Count <see cref="TaskScheduler.UnobservedTaskException"/> by exception type.</summary>
    public bool TrackUnobservedTaskExceptions { get; set; } = true;

    /// <summary>Call <c>SetObserved()</c> on unobserved exceptions. Off by default: the agent does not change the app's semantics.</summary>
    public bool ObserveUnobservedTaskExceptions { get; set; }

    /// <summary>Include exception messages in events. Off by default: messages may hold personal data.</summary>
    public bool IncludeExceptionMessages { get; set; }

    /// <summary>Cap on distinct exception types used as label values; further types are counted as <c>other</c>.</summary>
    public int MaxExceptionTypes { get; set; } = 50;

    /// <summary>Also export the runtime's <c>System.Runtime</c> meter (thread pool, locks, timers, GC) on the Prometheus endpoint.</summary>
    public bool IncludeRuntimeMetrics { get; set; } = true;

    /// <summary>
    /// Optional standalone Prometheus endpoint for apps without ASP.NET Core, e.g. <c>http://127.0.0.1:9464/metrics</c>.
    /// Null (the default) opens no port.
    /// </summary>
    public string? MetricsUrl { get; set; }

    /// <summary>Allow <see cref="MetricsUrl"/> to bind to a non-loopback address. Off by default.</summary>
    public bool AllowNonLoopbackBinding { get; set; }

    /// <summary>How long a scrape's bytes are reused by concurrent and following scrapes. Default 300 ms.</summary>
    public TimeSpan ScrapeCacheDuration { get; set; } = TimeSpan.FromMilliseconds(300);

    /// <summary>Where the agent was started from; reported in the <c>AgentStarted</c> event.</summary>
    public AgentMode Mode { get; set; } = AgentMode.Embedded;

    /// <summary>Throws <see cref="LoopDoctorConfigurationException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        Require(ProbeInterval >= TimeSpan.FromMilliseconds(1) && ProbeInterval <= TimeSpan.FromSeconds(10),
            nameof(ProbeInterval), ProbeInterval, "must be between 1 ms and 10 s");
        Require(TimerLagInterval >= TimeSpan.FromMilliseconds(1) && TimerLagInterval <= TimeSpan.FromSeconds(60),
            nameof(TimerLagInterval), TimerLagInterval, "must be between 1 ms and 60 s");
        Require(LagThreshold > TimeSpan.Zero && LagThreshold <= TimeSpan.FromSeconds(60),
            nameof(LagThreshold), LagThreshold, "must be greater than 0 and at most 60 s");
        Require(UnhealthyLagThreshold > LagThreshold,
            nameof(UnhealthyLagThreshold), UnhealthyLagThreshold, $"must be greater than {nameof(LagThreshold)} ({LagThreshold})");
        Require(HealthWindow >= TimeSpan.FromSeconds(1) && HealthWindow <= TimeSpan.FromSeconds(60),
            nameof(HealthWindow), HealthWindow, "must be between 1 s and 60 s");
        Require(MaxExceptionTypes is >= 1 and <= 1000, nameof(MaxExceptionTypes), MaxExceptionTypes, "must be between 1 and 1000");
        Require(ScrapeCacheDuration >= TimeSpan.Zero && ScrapeCacheDuration <= TimeSpan.FromSeconds(60),
            nameof(ScrapeCacheDuration), ScrapeCacheDuration, "must be between 0 and 60 s");
        Require(Enum.IsDefined(Mode), nameof(Mode), Mode, "is not a known mode");
        if (MetricsUrl is not null)
        {
            MetricsEndpointAddress.Parse(MetricsUrl, AllowNonLoopbackBinding, nameof(MetricsUrl));
        }
    }

    internal LoopDoctorOptions Clone() => (LoopDoctorOptions)MemberwiseClone();

    private static void Require(bool condition, string option, object? value, string rule)
    {
        if (!condition)
        {
            throw new LoopDoctorConfigurationException(option, $"LoopDoctor option {option} = {value} {rule}.");
        }
    }
}

/// <summary>How the agent came to run in this process.</summary>
public enum AgentMode
{
    /// <summary>Started by the application's own code (<c>AddLoopDoctor</c> or <c>LoopDoctorAgent.Start</c>).</summary>
    Embedded = 0,
    /// <summary>Loaded through <c>DOTNET_STARTUP_HOOKS</c> at process start.</summary>
    StartupHook = 1,
    /// <summary>Injected into a running process by <c>loopdoctor</c> (DiagnosticsClient.ApplyStartupHook).</summary>
    Injected = 2,
}
