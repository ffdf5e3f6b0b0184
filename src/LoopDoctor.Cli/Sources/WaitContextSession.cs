using LoopDoctor.Cli.Sources.Decoders;
using LoopDoctor.Cli.Signals;
using Microsoft.Diagnostics.Tracing;

namespace LoopDoctor.Cli.Sources;

/// <summary>
/// What a blocked pool thread is doing, in an EventPipe session of its own whose events carry no stack: the TPL's task
/// events (<see cref="TaskEventDecoder"/>: what a wait waits for) and ASP.NET Core's request markers (the DiagnosticSource
/// bridge's and the agent's, <see cref="RequestMarker"/>: which endpoint the thread serves). Both come several per
/// request, and the main session walks a stack for every event, so they are read here, in bursts, only while pool threads
/// block (<see cref="WaitContextOnDemand"/>).
/// </summary>
internal sealed class WaitContextSession : IDisposable
{
    private readonly EventPipeRunner _runner;

    private WaitContextSession(EventPipeRunner runner) => _runner = runner;

    /// <summary>Starts the session; null, and the one line to log in <paramref name="problem"/>, when it could not start.</summary>
    /// <param name="main">The main session's clock: signals are shifted onto it.</param>
    public static WaitContextSession? TryStart(int processId, SessionClock main, Action<Signal> sink, out string? problem)
    {
        problem = null;
        try
        {
            return new WaitContextSession(EventPipeRunner.StartWithoutStacks(processId, SessionProviders.CreateWaitContext(), circularBufferMB: 16, source =>
            {
                var own = SessionClock.Of(source);
                var shifted = new ShiftingSink(sink);
                var tasks = new TaskEventDecoder(shifted);
                var requests = new DiagnosticSourceDecoder(shifted);
                var agent = new AgentEventDecoder(shifted);
                source.AllEvents += e =>
                {
                    // Until both sessions have seen an event the shift is unknown; the first few events are dropped.
                    if (own.ShiftOnto(main) is not { } shift)
                    {
                        return;
                    }

                    shifted.ShiftMs = shift;
                    if (TaskEventDecoder.Owns(e))
                    {
                        tasks.Decode(e);
                    }
                    else if (DiagnosticSourceDecoder.Owns(e))
                    {
                        requests.Decode(e);
                    }
                    else if (AgentEventDecoder.Owns(e))
                    {
                        // This session enables only the agent's Requests keyword: its endpoint markers.
                        agent.Decode(e);
                    }
                };
            }));
        }
        catch (LoopDoctorException ex)
        {
            problem = $"loopdoctor: could not read task events and request markers ({ex.Message.ReplaceLineEndings(" ").Trim()}); " +
                      "blocking waits will not say what they wait for, nor endpoints the stacks do not show.";
            return null;
        }
    }

    public Task StopAsync() => _runner.StopAsync();

    public void Dispose() => _runner.Dispose();

    /// <summary>Puts signals decoded on this session's clock onto the main session's.</summary>
    private sealed class ShiftingSink(Action<Signal> sink) : ISignalSink
    {
        public double ShiftMs { get; set; }

        public void Add(Signal signal) => sink(signal with { TimestampMs = signal.TimestampMs + ShiftMs });

        public void AddSample(TraceEvent sample, SampleKind kind)
        {
            // No samples in this session.
        }
    }
}
