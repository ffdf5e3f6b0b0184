using System.Diagnostics.Tracing;
using System.Globalization;
using LoopDoctor.Agent.Diagnostics;
using LoopDoctor.Agent.RuntimeSignals;
using Microsoft.Diagnostics.NETCore.Client;

namespace LoopDoctor.Cli.Sources;

/// <summary>
/// The EventPipe providers a diagnosis needs. Facts measured on .NET 10: WaitHandle events arrive only at Verbose;
/// two entries for one provider name make only the first take effect, so the runtime provider is ONE entry with every
/// keyword at Verbose. TPL task events are left out: with stacks they cost 25–35× throughput. The Exception keyword is
/// left out too: no detector reads runtime exception events (unobserved task exceptions come from the agent), and each
/// throw would cost the target a stack walk.
/// Keywords: https://learn.microsoft.com/dotnet/fundamentals/diagnostics/runtime-events
/// </summary>
internal static class SessionProviders
{
    public const string RuntimeProvider = RuntimeKeywords.ProviderName;
    public const string SampleProfilerProvider = "Microsoft-DotNETCore-SampleProfiler";
    public const string MetricsProvider = "System.Diagnostics.Metrics";
    public const string AgentProvider = LoopDoctorEventSource.SourceName;

    /// <summary>Threading | WaitHandle | Contention | GC (pauses, collections and, at Verbose, allocation samples), plus
    /// Jit | Loader so methods compiled during the session get names.</summary>
    public const long DiagnosisKeywords = RuntimeKeywords.Threading | RuntimeKeywords.WaitHandle | RuntimeKeywords.Contention | RuntimeKeywords.Gc | RuntimeKeywords.Jit | RuntimeKeywords.Loader;

    /// <param name="metricsRefresh">How often the Metrics provider publishes.</param>
    /// <param name="sampleStacks">Whether the sample profiler runs in this session (see <see cref="StackSampling"/>).</param>
    /// <param name="metricsSessionId">The Metrics provider's SessionId (null: a new one); pass the same to the
    /// <see cref="Decoders.MetricsEventDecoder"/> so it ignores values published for another tool's session.</param>
    public static IReadOnlyList<EventPipeProvider> Create(TimeSpan metricsRefresh, bool sampleStacks = true, string? metricsSessionId = null)
    {
        var refreshSeconds = Math.Max(0.1, metricsRefresh.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        var providers = new List<EventPipeProvider>
        {
            new(RuntimeProvider, EventLevel.Verbose, DiagnosisKeywords),
        };
        if (sampleStacks)
        {
            providers.Add(new EventPipeProvider(SampleProfilerProvider, EventLevel.Informational));
        }

        // Arguments as dotnet-counters passes them; thread-pool instruments come from the System.Runtime meter.
        providers.Add(new EventPipeProvider(MetricsProvider, EventLevel.Informational, 0x2, new Dictionary<string, string>
        {
            ["SessionId"] = metricsSessionId ?? NewMetricsSessionId(),
            ["Metrics"] = "System.Runtime,LoopDoctor",
            ["RefreshInterval"] = refreshSeconds,
            ["MaxTimeSeries"] = "1000",
            ["MaxHistograms"] = "20",
            ["ClientId"] = Guid.NewGuid().ToString(),
        }));
        // Request markers come several per request: not here, where each would carry a stack (P5: +28 µs of the target's
        // CPU per request), but in WaitContextSession's stackless bursts.
        providers.Add(new EventPipeProvider(AgentProvider, EventLevel.Verbose, (long)(LoopDoctorEventSource.AllKeywords & ~LoopDoctorEventSource.Keywords.Requests)));
        return providers;
    }

    /// <summary>
    /// The DiagnosticSource bridge's transform specs: the two ASP.NET Core events that say, on the serving thread, which
    /// request and MVC action run there, with only the fields the attribution reads. Enabling a named event does not
    /// make ASP.NET Core create an Activity per request (that needs its HttpRequestIn event enabled).
    /// Syntax: https://learn.microsoft.com/dotnet/api/system.diagnostics.diagnosticsource (DiagnosticSourceEventSource remarks).
    /// </summary>
    public const string RequestMarkerSpecs =
        "Microsoft.AspNetCore/Microsoft.AspNetCore.Routing.EndpointMatched:-Method=Request.Method;Path=Request.Path\r\n" +
        "Microsoft.AspNetCore/Microsoft.AspNetCore.Mvc.BeforeAction:-Action=ActionDescriptor.DisplayName;Route=ActionDescriptor.AttributeRouteInfo.Template;Method=HttpContext.Request.Method;Path=HttpContext.Request.Path";

    /// <summary>The bridge at Events (0x2) | Messages (0x1), as measured to deliver ASP.NET Core's events to an attacher.</summary>
    public static EventPipeProvider RequestMarkers() =>
        new(Decoders.DiagnosticSourceDecoder.ProviderName, EventLevel.Verbose, 0x3, new Dictionary<string, string>
        {
            ["FilterAndPayloadSpecs"] = RequestMarkerSpecs,
        });

    /// <summary>A SessionId for the Metrics provider, unique to this session (as dotnet-counters makes one).</summary>
    public static string NewMetricsSessionId() => Guid.NewGuid().ToString();

    /// <summary>
    /// The on-demand sampler's own session (<see cref="OnDemandSampler"/>): the sample profiler, and Jit | Loader at
    /// Verbose so methods compiled while it runs get names (its rundown names the ones compiled before).
    /// </summary>
    public static IReadOnlyList<EventPipeProvider> CreateSampler() =>
    [
        new EventPipeProvider(SampleProfilerProvider, EventLevel.Informational),
        new EventPipeProvider(RuntimeProvider, EventLevel.Verbose, RuntimeKeywords.Jit | RuntimeKeywords.Loader),
    ];

    /// <summary>The TPL's task waits and operation names (what P10 measures alone).</summary>
    public static IReadOnlyList<EventPipeProvider> CreateTaskEvents() =>
    [
        new EventPipeProvider(Decoders.TaskEventDecoder.ProviderName, EventLevel.Informational, Decoders.TaskEventDecoder.Keywords),
    ];

    /// <summary>
    /// <see cref="WaitContextSession"/>'s providers (a session without stacks): the task events, the bridge's request
    /// markers and the agent's endpoint markers (its Requests keyword only).
    /// </summary>
    public static IReadOnlyList<EventPipeProvider> CreateWaitContext() =>
    [
        .. CreateTaskEvents(),
        RequestMarkers(),
        new EventPipeProvider(AgentProvider, EventLevel.Informational, (long)LoopDoctorEventSource.Keywords.Requests),
    ];

    /// <summary>A session whose start induces one blocking full GC in the target (GC | GCHeapCollect, as dotnet-gcdump does).</summary>
    public static IReadOnlyList<EventPipeProvider> CreateInducedCollection() =>
    [
        new EventPipeProvider(RuntimeProvider, EventLevel.Informational, RuntimeKeywords.Gc | RuntimeKeywords.GcHeapCollect),
    ];
}
