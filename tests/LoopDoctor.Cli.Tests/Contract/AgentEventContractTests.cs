using System.Diagnostics.Tracing;
using System.Reflection;
using LoopDoctor.Agent.Diagnostics;
using LoopDoctor.Agent.Metrics;
using LoopDoctor.Cli.Sources;
using LoopDoctor.Cli.Signals;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Etlx;

namespace LoopDoctor.Cli.Tests.Contract;

/// <summary>
/// The agent–CLI contract, end to end: this process writes every event the agent's EventSource declares (and a value
/// of the agent's meter) into a real EventPipe session on itself, and the CLI's decoders must turn each into its signal,
/// live through TraceLog and from the recorded .nettrace read both ways (one pass, and TraceLog's .etlx conversion).
/// </summary>
public sealed class AgentEventContractTests
{
    private const string Version = "9.8.7";
    private const string Mode = "Injected";

    [Fact]
    public void Every_event_the_agent_source_declares_has_a_contract_id()
    {
        var declared = typeof(LoopDoctorEventSource).GetMethods(BindingFlags.Instance | BindingFlags.Public | BindingFlags.DeclaredOnly)
            .Select(m => m.GetCustomAttribute<EventAttribute>())
            .OfType<EventAttribute>()
            .Select(a => a.EventId)
            .Order();
        Assert.Equal(Enum.GetValues<AgentEventId>().Select(id => (int)id).Order(), declared);
        Assert.All(Enum.GetValues<AgentEventId>(), id => Assert.NotNull(typeof(LoopDoctorEventSource).GetMethod(id.ToString())));
    }

    [Fact]
    public async Task The_CLI_decodes_every_agent_event_live_and_from_a_recorded_trace()
    {
        var metricsSession = SessionProviders.NewMetricsSessionId();
        var client = new DiagnosticsClient(Environment.ProcessId);
        using var instruments = new LoopDoctorInstruments();
        LoopDoctorEventSource.Log.SetAgent(new LoopDoctorEventSource.AgentDescription(Version, Mode));
        try
        {
            // Live: a TraceLog session, as diagnose and monitor read one; a second adapter stands for another tool's session.
            var live = new List<Signal>();
            var otherSession = new List<Signal>();
            using (var session = client.StartEventPipeSession(Providers(metricsSession), requestRundown: false))
            {
                var source = TraceLog.CreateFromEventPipeSession(session);
                var adapter = new TraceEventSignalAdapter(source, live.Add, metricsSession);
                _ = new TraceEventSignalAdapter(source, otherSession.Add, "another tool's session");
                var processing = Task.Run(source.Process);
                await WriteEverythingAsync(instruments);
                await session.StopAsync(CancellationToken.None);
                await processing.WaitAsync(TimeSpan.FromSeconds(30));
                adapter.FlushSamples();
            }

            Assert.Equal(Expected(), AgentSignals(live));
            Assert.Contains(live, IsAgentQueueDelayHistogram);
            Assert.Equal(Expected(), AgentSignals(otherSession));
            Assert.DoesNotContain(otherSession, s => s is MetricValue or MetricHistogram);

            // Recorded, as dotnet-trace records: read in one pass, and through TraceLog's .etlx.
            var path = Path.Combine(Path.GetTempPath(), $"loopdoctor-contract-{Guid.NewGuid():N}.nettrace");
            try
            {
                using (var session = client.StartEventPipeSession(Providers(SessionProviders.NewMetricsSessionId()), requestRundown: false))
                {
                    await using var file = File.Create(path);
                    var copy = session.EventStream.CopyToAsync(file);
                    await WriteEverythingAsync(instruments);
                    await session.StopAsync(CancellationToken.None);
                    await copy.WaitAsync(TimeSpan.FromSeconds(30));
                }

                var onePass = new List<Signal>();
                using (var source = new EventPipeEventSource(path))
                {
                    var log = new SignalLog();
                    var stacks = new StackInterner();
                    _ = TraceEventSignalAdapter.ForRecordedTrace(source, log, stacks);
                    source.Process();
                    stacks.ResolveAll(new MethodAddressMap());
                    log.Replay(onePass.Add, stacks);
                }

                Assert.Equal(Expected(), AgentSignals(onePass));
                Assert.Contains(onePass, IsAgentQueueDelayHistogram);

                var viaTraceLog = new List<Signal>();
                var etlx = TraceLog.CreateFromEventPipeDataFile(path);
                try
                {
                    using var log = new TraceLog(etlx);
                    using var source = log.Events.GetSource();
                    var adapter = new TraceEventSignalAdapter(source, viaTraceLog.Add);
                    source.Process();
                    adapter.FlushSamples();
                }
                finally
                {
                    File.Delete(etlx);
                }

                Assert.Equal(Expected(), AgentSignals(viaTraceLog));
                Assert.Contains(viaTraceLog, IsAgentQueueDelayHistogram);
            }
            finally
            {
                File.Delete(path);
            }
        }
        finally
        {
            LoopDoctorEventSource.Log.SetAgent(null);
        }
    }

    // The agent's provider as the CLI enables it across its sessions (the main one's keywords, the wait-context bursts'
    // Requests), and the Metrics provider reduced to the agent's meter.
    private static EventPipeProvider[] Providers(string metricsSession)
    {
        var agentKeywords = SessionProviders.Create(TimeSpan.FromSeconds(0.5), sampleStacks: false, metricsSession)
            .Concat(SessionProviders.CreateWaitContext())
            .Where(p => p.Name == SessionProviders.AgentProvider)
            .Aggregate(0L, (keywords, p) => keywords | p.Keywords);
        Assert.Equal((long)LoopDoctorEventSource.AllKeywords, agentKeywords);
        return
        [
            .. SessionProviders.Create(TimeSpan.FromSeconds(0.5), sampleStacks: false, metricsSession)
                .Where(p => p.Name is SessionProviders.AgentProvider or SessionProviders.MetricsProvider)
                .Select(p => p.Name == SessionProviders.MetricsProvider
                    ? new EventPipeProvider(p.Name, p.EventLevel, p.Keywords, p.Arguments!.ToDictionary(a => a.Key, a => a.Key == "Metrics" ? LoopDoctorInstruments.MeterName : a.Value))
                    : new EventPipeProvider(p.Name, p.EventLevel, agentKeywords)),
        ];
    }

    // AgentStarted comes when the session enables the source (the agent is set); every other event is written here.
    private static async Task WriteEverythingAsync(LoopDoctorInstruments instruments)
    {
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        foreach (var id in Enum.GetValues<AgentEventId>())
        {
            var log = LoopDoctorEventSource.Log;
            switch (id)
            {
                case AgentEventId.AgentStarted:
                    break;
                case AgentEventId.QueueDelaySpike:
                    log.QueueDelaySpike(250_000, 100_000);
                    break;
                case AgentEventId.TimerLagSpike:
                    log.TimerLagSpike(150_000, 100_000);
                    break;
                case AgentEventId.UnobservedTaskException:
                    log.UnobservedTaskException("System.InvalidOperationException", "   at A.B()", "boom");
                    break;
                case AgentEventId.AgentMessage:
                    log.AgentMessage("a warning for the agent's own log");
                    break;
                case AgentEventId.EndpointMatched:
                    log.EndpointMatched("/orders/{id}", "HTTP: GET /orders/{id}");
                    break;
                default:
                    throw new InvalidOperationException($"A new agent event {id}: write it here and say what the CLI decodes it into in Expected().");
            }
        }

        // Histograms publish an interval only once it has measurements; a few intervals pass while this one records.
        for (var i = 0; i < 25; i++)
        {
            instruments.QueueDelay.Record(0.002);
            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }
    }

    private static Signal[] Expected() =>
    [
        new AgentStarted(0, Version, Mode),
        new QueueDelaySpike(0, 250, 100),
        new TimerLagSpike(0, 150, 100),
        new UnobservedTaskException(0, "System.InvalidOperationException", "   at A.B()", "boom"),
        // AgentMessage: the agent's warnings for its own log; no signal.
        new RequestMarker(0, 0, RequestMarkerKind.EndpointMatched, "GET", null, null, "/orders/{id}"),
    ];

    private static Signal[] AgentSignals(IEnumerable<Signal> signals) =>
        [.. signals.Where(s => s is AgentStarted or QueueDelaySpike or TimerLagSpike or UnobservedTaskException or RequestMarker).Select(s => s with { TimestampMs = 0, ThreadId = 0 })];

    private static bool IsAgentQueueDelayHistogram(Signal signal) =>
        signal is MetricHistogram { MeterName: LoopDoctorInstruments.MeterName, InstrumentName: LoopDoctorInstruments.Names.QueueDelay, Count: > 0 } histogram
        && histogram.Quantiles.Count > 0;
}
