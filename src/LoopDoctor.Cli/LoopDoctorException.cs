namespace LoopDoctor.Cli;

/// <summary>The one user-facing error: caught at the top, printed as one line on stderr, mapped to its exit code.</summary>
internal sealed class LoopDoctorException(ExitCode exitCode, string message, Exception? inner = null) : Exception(message, inner)
{
    public ExitCode ExitCode { get; } = exitCode;
}
