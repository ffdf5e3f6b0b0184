using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Sources;
using LoopDoctor.Cli.Targets;

namespace LoopDoctor.Cli.Runs;

/// <summary>
/// Where a diagnosis's signals come from: a live EventPipe session (attached, or on a program loopdoctor launched) or a
/// trace file. The source is created with the run's sink and feeds it from its own reader thread.
/// </summary>
internal interface ISignalSource
{
    /// <summary>The process the signals describe (a trace file's is known once it has been read).</summary>
    TargetInfo Info { get; }

    /// <summary>The target's runtime, when it could be read.</summary>
    TargetRuntime? Runtime { get; }

    /// <summary>The agent as loopdoctor found or loaded it (<see cref="AgentAttachment.Resolve"/> decides what the report says).</summary>
    AgentPresence Agent { get; }

    TimeSpan Elapsed { get; }

    /// <summary>Events the runtime dropped for this source (0 for a file).</summary>
    long EventsLost { get; }

    /// <summary>Feeds the sink until <paramref name="duration"/> elapses, <paramref name="cancellationToken"/> fires or the input ends.</summary>
    Task<SessionEnd> RunAsync(TimeSpan? duration, CancellationToken cancellationToken);
}
