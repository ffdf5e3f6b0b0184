using LoopDoctor.Cli.CommandLine;
using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Reporting;

namespace LoopDoctor.Cli.Commands;

/// <summary>Writes the final report (stdout or --output) and picks the exit code; shared by diagnose, monitor, analyze, demo.</summary>
internal static class ReportOutput
{
    public static async Task<ExitCode> WriteAsync(DiagnosisReport report, ReportFormat format, string? outputPath, CliConsole console)
    {
        await WriteToAsync(outputPath, console, writer => Reporters.Write(report, format, writer)).ConfigureAwait(false);
        if (outputPath is not null)
        {
            await console.Error.WriteLineAsync($"loopdoctor: report written to {outputPath} (verdict: {report.Verdict.Name()}).").ConfigureAwait(false);
        }

        // Lost events make a report partial, not a failed session: the exit code still says what was found.
        if (report.TargetExited || (report.Incomplete is not null && report.EventsLost == 0))
        {
            return ExitCode.TargetExited;
        }

        return report.HasProblems ? ExitCode.FindingsPresent : ExitCode.Ok;
    }

    /// <summary>
    /// A fleet's reports (monitor --diagnostic-port / --all), one per process: a JSON array, or the text/markdown
    /// reports one after the other. Processes leaving is what a fleet does, so only findings set the exit code.
    /// </summary>
    public static async Task<ExitCode> WriteAllAsync(IReadOnlyList<DiagnosisReport> reports, ReportFormat format, string? outputPath, CliConsole console)
    {
        await WriteToAsync(outputPath, console, writer =>
        {
            if (format == ReportFormat.Json)
            {
                writer.Write('[');
                for (var i = 0; i < reports.Count; i++)
                {
                    writer.Write(i == 0 ? "\n" : ",\n");
                    using var one = new StringWriter();
                    JsonReportWriter.Write(reports[i], one);
                    writer.Write(one.ToString().TrimEnd());
                }

                writer.WriteLine(reports.Count == 0 ? "]" : "\n]");
                return;
            }

            foreach (var report in reports)
            {
                Reporters.Write(report, format, writer);
                writer.WriteLine();
            }
        }).ConfigureAwait(false);
        await console.Error.WriteLineAsync(reports.Count == 0
            ? "loopdoctor: no process was monitored."
            : $"loopdoctor: {reports.Count} report{(reports.Count == 1 ? "" : "s")}{(outputPath is null ? "" : $" written to {outputPath}")}: " +
              string.Join(", ", reports.Select(r => $"pid {r.Target.ProcessId} {r.Verdict.Name()}")) + ".").ConfigureAwait(false);
        return reports.Any(r => r.HasProblems) ? ExitCode.FindingsPresent : ExitCode.Ok;
    }

    private static async Task WriteToAsync(string? outputPath, CliConsole console, Action<TextWriter> write)
    {
        if (outputPath is null)
        {
            write(console.Out);
            await console.Out.FlushAsync().ConfigureAwait(false);
            return;
        }

        try
        {
            await using var file = new StreamWriter(outputPath, append: false);
            write(file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new LoopDoctorException(ExitCode.UsageError, $"Cannot write the report to '{outputPath}': {ex.Message}", ex);
        }
    }
}
