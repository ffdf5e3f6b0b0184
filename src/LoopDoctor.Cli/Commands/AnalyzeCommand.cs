using System.CommandLine;
using LoopDoctor.Cli.CommandLine;
using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Reporting;
using LoopDoctor.Cli.Runs;
using LoopDoctor.Cli.Sources;

namespace LoopDoctor.Cli.Commands;

internal sealed record AnalyzeOptions(string TracePath, ReportFormat Format, string? Output);

/// <summary><c>loopdoctor analyze FILE.nettrace</c>: the same detectors over a recorded trace.</summary>
internal static class AnalyzeCommand
{
    public static Command Create(CliConsole console)
    {
        var trace = new Argument<string>("trace") { Description = "A .nettrace file, e.g. from 'dotnet-trace collect' with the providers in the README." };
        var format = CommonOptions.Format();
        var output = CommonOptions.Output();
        var command = new Command("analyze", "Diagnose a recorded .nettrace file with the same detectors as 'diagnose'.") { trace, format, output };
        command.SetAction((result, ct) => RunAsync(new AnalyzeOptions(result.GetValue(trace)!, result.GetValue(format), result.GetValue(output)), console, ct));
        return command;
    }

    public static async Task<int> RunAsync(AnalyzeOptions options, CliConsole console, CancellationToken cancellationToken)
    {
        var run = new DiagnosisRun();
        var source = new TraceFileSignalSource(options.TracePath, run.Observe);
        var outcome = await run.RunAsync(source, duration: null, console, cancellationToken).ConfigureAwait(false);
        if (Environment.GetEnvironmentVariable("LOOPDOCTOR_DEBUG") == "1" && source.Timings is { } timings)
        {
            await console.Error.WriteLineAsync($"loopdoctor: {timings}").ConfigureAwait(false);
        }

        var report = outcome.Report with { Source = ReportSource.File };
        if (source.Truncated is { } truncated)
        {
            await console.Error.WriteLineAsync($"loopdoctor: {truncated}; the report covers what was read.").ConfigureAwait(false);
            report = report with { Incomplete = truncated };
        }

        return (int)await ReportOutput.WriteAsync(report, options.Format, options.Output, console).ConfigureAwait(false);
    }
}
