using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Runs;

/// <summary>Something that follows a run besides the diagnosis: a live view, a metrics endpoint, check's interval tracker.</summary>
internal interface IRunObserver
{
    /// <summary>Each admitted signal, on the source's reader thread: must not block.</summary>
    void Observe(Signal signal)
    {
    }

    /// <summary>Runs while the source runs; cancelled when it ends.</summary>
    Task WatchAsync(RunView run, CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>What an observer sees of a running diagnosis.</summary>
internal sealed class RunView(ISignalSource source, Func<DiagnosisReport> snapshot)
{
    public TargetInfo Target => source.Info;

    public TimeSpan Elapsed => source.Elapsed;

    /// <summary>The report as it would read now.</summary>
    public DiagnosisReport Snapshot() => snapshot();
}

/// <summary>An observer of signals only, for a delegate (check's interval tracker).</summary>
internal sealed class SignalObserver(Action<Signal> observe) : IRunObserver
{
    public void Observe(Signal signal) => observe(signal);
}
