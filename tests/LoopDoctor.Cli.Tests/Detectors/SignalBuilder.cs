using LoopDoctor.Cli.Runs;
using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Tests.Detectors;

/// <summary>Builds synthetic signal streams in timestamp order, as the adapter would deliver them.</summary>
internal sealed class SignalBuilder
{
    public const string Handler = "MyApp.Orders.OrderController.Get";
    public const string Helper = "MyApp.Orders.OrderService.Load";

    private readonly DiagnosisPipeline _pipeline = new();

    public static CallStack Stack(params string[] frames) => new(frames);

    /// <summary>A stack of a pool worker running <paramref name="appFrames"/> (innermost first) under the dispatch loop.</summary>
    public static CallStack PoolStack(params string[] appFrames) =>
        new([.. appFrames, "System.Threading.ExecutionContext.RunInternal", "System.Threading.ThreadPoolWorkQueue.Dispatch", "System.Threading.PortableThreadPool.WorkerThread.WorkerThreadStart"]);

    /// <summary>A pool worker's stack waiting to enter the <c>lock</c> that <paramref name="appFrames"/>[0] takes.</summary>
    public static CallStack LockStack(params string[] appFrames) => PoolStack(["System.Threading.Monitor.Enter", .. appFrames]);

    public SignalBuilder Add(Signal signal)
    {
        _pipeline.Observe(signal);
        return this;
    }

    public SignalBuilder Worker(int threadId, double at) => Add(new PoolThreadSeen(at, threadId));

    public SignalBuilder Wait(int threadId, double from, double to, CallStack stack, WaitSource source = WaitSource.MonitorWait) =>
        Add(new WaitStarted(from, threadId, source, stack)).Add(new WaitStopped(to, threadId));

    /// <summary>Samples every millisecond from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public SignalBuilder Samples(int threadId, double from, double to, SampleKind kind, CallStack stack)
    {
        for (var t = from; t <= to; t += 1)
        {
            Add(new StackSample(t, threadId, kind, stack));
        }

        return this;
    }

    public DiagnosisReport Report() => _pipeline.BuildReport(new TargetInfo(42, "MyApp"), 10, AgentPresence.None);

    public Finding? Find(string kind) => Report().Findings.SingleOrDefault(f => f.Kind == kind);
}
