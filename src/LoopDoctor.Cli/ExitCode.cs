namespace LoopDoctor.Cli;

/// <summary>
/// loopdoctor's exit codes (README "Exit codes"). Stable: CI gates test them.
/// </summary>
internal enum ExitCode
{
    /// <summary>Done; the target is healthy (no warning or critical finding). Also ps, --help, --version.</summary>
    Ok = 0,

    /// <summary>Done; at least one warning or critical finding (verdict degraded or starving).</summary>
    FindingsPresent = 1,

    /// <summary>Bad command line: unknown option, bad duration, missing --process-id/--name, ...</summary>
    UsageError = 2,

    /// <summary>No such process, no .NET diagnostics port for it ("Unable to connect..."), or no process of that name.</summary>
    TargetNotFound = 3,

    /// <summary>The target's diagnostics socket refused us (another user's process).</summary>
    PermissionDenied = 4,

    /// <summary>The EventPipe session could not start or broke.</summary>
    SessionFailed = 5,

    /// <summary>The target exited mid-session, or (analyze) the trace file ends early; the partial report was printed.</summary>
    TargetExited = 6,

    /// <summary>analyze: the trace file is missing, unreadable or not a .nettrace.</summary>
    InvalidTraceFile = 7,

    /// <summary>check: a rule failed (new culprit call site, a --fail-on kind, queue delay over threshold or baseline); run --fail-on: a listed kind was found.</summary>
    RegressionFound = 8,

    /// <summary>run/check: the command is not a .NET program (it exited or timed out without its runtime connecting to loopdoctor's diagnostics port).</summary>
    NotDotNet = 9,

    /// <summary>run/check: the command could not be started (not found, not executable) or the agent is missing.</summary>
    LaunchFailed = 10,
}
