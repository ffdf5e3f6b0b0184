using LoopDoctor.Cli.CommandLine;
using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Reporting;

namespace LoopDoctor.Cli.Commands;

/// <summary>Writes the final report (stdout or --output) and picks the exit code; shared by diagnose, monitor, analyze, demo.</summary>
internal static class ReportOutput
{
    public static async Task<ExitCode> WriteAsync(DiagnosisReport report, ReportFormat format, string? outputPath, CliConsole console)
    {
        if (outputPath is null)
        {
            Reporters.Write(report, format, console.Out);
            await console.Out.FlushAsync().ConfigureAwait(false);
        }
        else
        {
            try
            {
                await using var file = new StreamWriter(outputPath, append: false);
                Reporters.Write(report, format, file);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                throw new LoopDoctorException(ExitCode.UsageError, $"Cannot write the report to '{outputPath}': {ex.Message}", ex);
            }

            await console.Error.WriteLineAsync($"loopdoctor: report written to {outputPath} (verdict: {report.Verdict.Name()}).").ConfigureAwait(false);
        }

        // Lost events make a report partial, not a failed session: the exit code still says what was found.
        if (report.TargetExited || (report.Incomplete is not null && report.EventsLost == 0))
        {
            return ExitCode.TargetExited;
        }

        return report.HasProblems ? ExitCode.FindingsPresent : ExitCode.Ok;
    }
}
