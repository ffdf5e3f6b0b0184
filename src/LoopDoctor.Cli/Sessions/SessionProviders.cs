using System.Diagnostics.Tracing;
using System.Globalization;
using Microsoft.Diagnostics.NETCore.Client;

namespace LoopDoctor.Cli.Sessions;

/// <summary>
/// The EventPipe providers a diagnosis needs. Facts measured on .NET 10: WaitHandle events arrive only at Verbose;
/// two entries for one provider name make only the first take effect, so the runtime provider is ONE entry with every
/// keyword at Verbose. TPL task events are left out: with stacks they cost 25–35× throughput.
/// Keywords: https://learn.microsoft.com/dotnet/fundamentals/diagnostics/runtime-events
/// </summary>
internal static class SessionProviders
{
    public const string RuntimeProvider = "Microsoft-Windows-DotNETRuntime";
    public const string SampleProfilerProvider = "Microsoft-DotNETCore-SampleProfiler";
    public const string MetricsProvider = "System.Diagnostics.Metrics";
    public const string AgentProvider = "LoopDoctor-Agent";

    public const long LoaderKeyword = 0x8;
    public const long JitKeyword = 0x10;
    public const long ContentionKeyword = 0x4000;
    public const long ExceptionKeyword = 0x8000;
    public const long ThreadingKeyword = 0x10000;
    public const long WaitHandleKeyword = 0x40000000000;

    /// <summary>Threading | WaitHandle | Contention | Exception, plus Jit | Loader so methods compiled during the session get names.</summary>
    public const long RuntimeKeywords = ThreadingKeyword | WaitHandleKeyword | ContentionKeyword | ExceptionKeyword | JitKeyword | LoaderKeyword;

    public static IReadOnlyList<EventPipeProvider> Create(TimeSpan metricsRefresh)
    {
        var refreshSeconds = Math.Max(0.1, metricsRefresh.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        return
        [
            new EventPipeProvider(RuntimeProvider, EventLevel.Verbose, RuntimeKeywords),
            new EventPipeProvider(SampleProfilerProvider, EventLevel.Informational),
            // Arguments as dotnet-counters passes them; thread-pool instruments come from the System.Runtime meter.
            new EventPipeProvider(MetricsProvider, EventLevel.Informational, 0x2, new Dictionary<string, string>
            {
                ["SessionId"] = Guid.NewGuid().ToString(),
                ["Metrics"] = "System.Runtime,LoopDoctor",
                ["RefreshInterval"] = refreshSeconds,
                ["MaxTimeSeries"] = "1000",
                ["MaxHistograms"] = "20",
                ["ClientId"] = Guid.NewGuid().ToString(),
            }),
            new EventPipeProvider(AgentProvider, EventLevel.Verbose, 0x7),
        ];
    }
}
