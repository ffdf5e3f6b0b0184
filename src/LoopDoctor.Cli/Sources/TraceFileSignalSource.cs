using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Runs;
using LoopDoctor.Cli.Signals;
using LoopDoctor.Cli.Targets;

namespace LoopDoctor.Cli.Sources;

/// <summary>A recorded .nettrace file as a diagnosis's source (<see cref="TraceFileSource"/> reads it), read on its own thread.</summary>
internal sealed class TraceFileSignalSource(string path, Action<Signal> sink) : ISignalSource
{
    private TraceFileSource.Result? _result;

    public TargetInfo Info => _result is { } r ? new TargetInfo(r.ProcessId, r.ProcessName, r.RuntimeVersion) : new TargetInfo(0, Path.GetFileNameWithoutExtension(path));

    public TargetRuntime? Runtime => null;

    /// <summary>Nothing is loaded into a recording; an agent that was there announced itself in it.</summary>
    public AgentPresence Agent => AgentPresence.None;

    public TimeSpan Elapsed => TimeSpan.FromSeconds(_result?.DurationSeconds ?? 0);

    public long EventsLost => 0;

    /// <summary>Why the file ended early, or null.</summary>
    public string? Truncated => _result?.Truncated;

    /// <summary>Where the time went (LOOPDOCTOR_DEBUG=1 prints it).</summary>
    public string? Timings => _result?.Timings;

    public async Task<SessionEnd> RunAsync(TimeSpan? duration, CancellationToken cancellationToken)
    {
        _result = await Task.Factory.StartNew(() => TraceFileSource.Replay(path, sink), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
        return SessionEnd.Completed;
    }
}
