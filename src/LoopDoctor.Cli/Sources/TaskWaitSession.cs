using LoopDoctor.Cli.Sources.Decoders;
using LoopDoctor.Cli.Signals;
using Microsoft.Diagnostics.Tracing;

namespace LoopDoctor.Cli.Sources;

/// <summary>
/// The TPL's task events (<see cref="TaskEventDecoder"/>), in an EventPipe session of their own whose events carry no
/// stack: the main session walks a stack for every event, and these come several per request. Opened in bursts, only
/// while the target blocks on tasks (<see cref="TaskEventsOnDemand"/>).
/// </summary>
internal sealed class TaskWaitSession : IDisposable
{
    private readonly EventPipeRunner _runner;

    private TaskWaitSession(EventPipeRunner runner) => _runner = runner;

    /// <summary>Starts the session; null (and one line on <paramref name="log"/>) when it could not start.</summary>
    /// <param name="main">The main session's clock: signals are shifted onto it.</param>
    public static TaskWaitSession? TryStart(int processId, SessionClock main, Action<Signal> sink, TextWriter log)
    {
        try
        {
            return new TaskWaitSession(EventPipeRunner.StartWithoutStacks(processId, SessionProviders.CreateTaskEvents(), circularBufferMB: 16, source =>
            {
                var own = SessionClock.Of(source);
                var decoder = new TaskEventDecoder(new SignalForwarder(sink));
                source.AllEvents += e =>
                {
                    // Until both sessions have seen an event the shift is unknown; the first few task events are dropped.
                    if (TaskEventDecoder.Owns(e) && own.ShiftOnto(main) is { } shift)
                    {
                        decoder.Decode(e, shift);
                    }
                };
            }));
        }
        catch (LoopDoctorException ex)
        {
            log.WriteLine($"loopdoctor: could not read task events ({ex.Message.ReplaceLineEndings(" ").Trim()}); blocking waits will not say what they wait for.");
            return null;
        }
    }

    public Task StopAsync() => _runner.StopAsync();

    public void Dispose() => _runner.Dispose();

    private sealed class SignalForwarder(Action<Signal> sink) : ISignalSink
    {
        public void Add(Signal signal) => sink(signal);

        public void AddSample(TraceEvent sample, SampleKind kind)
        {
            // No samples in this session.
        }
    }
}
