using System.CommandLine;
using System.Globalization;
using LoopDoctor.Cli.CommandLine;
using LoopDoctor.Cli.Detectors;
using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Reporting;
using LoopDoctor.Cli.Sessions;
using LoopDoctor.Cli.Targets;

namespace LoopDoctor.Cli.Commands;

internal sealed record MonitorOptions(int? ProcessId, string? Name, TimeSpan Refresh, TimeSpan? Duration, ReportFormat Format, string? Output, bool NoInject);

/// <summary>
/// <c>loopdoctor monitor</c>: a live view (one plain line per refresh on stderr) of the pool and the top culprits;
/// Ctrl+C ends with the same report as diagnose.
/// </summary>
internal static class MonitorCommand
{
    public static Command Create(CliConsole console)
    {
        var processId = CommonOptions.ProcessId();
        var name = CommonOptions.ProcessName();
        var refresh = CommonOptions.Duration("--refresh", "How often to print the live view.", TimeSpan.FromSeconds(1));
        var duration = new Option<TimeSpan?>("--duration", "-d")
        {
            Description = "Stop by itself after this long (default: until Ctrl+C). Accepts 500ms, 10s, 2m or 00:00:10.",
            CustomParser = r =>
            {
                var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
                if (DurationParser.TryParse(text, out var d))
                {
                    return d;
                }

                r.AddError($"Invalid duration '{text}': use e.g. 500ms, 10s, 2m or 00:00:10.");
                return null;
            },
        };
        var format = CommonOptions.Format();
        var output = CommonOptions.Output();
        var noInject = CommonOptions.NoInject();
        var command = new Command("monitor", "Watch a running .NET process live: queue delay, pool threads, queue length, injections by reason and the top culprit call sites. Ctrl+C prints the full diagnosis.")
        {
            processId, name, refresh, duration, format, output, noInject,
        };
        CommonOptions.RequireOneTarget(command, processId, name);
        command.SetAction((result, ct) => RunAsync(
            new MonitorOptions(result.GetValue(processId), result.GetValue(name), result.GetValue(refresh), result.GetValue(duration), result.GetValue(format), result.GetValue(output), result.GetValue(noInject)),
            console, ct));
        return command;
    }

    public static async Task<int> RunAsync(MonitorOptions options, CliConsole console, CancellationToken cancellationToken)
    {
        var target = TargetProcess.Resolve(options.ProcessId, options.Name);
        var refresh = options.Refresh < TimeSpan.FromMilliseconds(100) ? TimeSpan.FromMilliseconds(100) : options.Refresh;
        var report = await LiveDiagnosis.RunAsync(target, options.Duration, !options.NoInject, refresh, console,
            (session, pipeline, ct) => PrintLoopAsync(session, pipeline, target, refresh, console, ct), cancellationToken).ConfigureAwait(false);
        return (int)await ReportOutput.WriteAsync(report, options.Format, options.Output, console).ConfigureAwait(false);
    }

    private static async Task PrintLoopAsync(LiveSession session, DiagnosisPipeline pipeline, TargetProcess target, TimeSpan refresh, CliConsole console, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(refresh);
        while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
        {
            var snapshot = pipeline.BuildReport(new TargetInfo(target.ProcessId, target.Name), session.Elapsed.TotalSeconds, session.Agent);
            await console.Error.WriteLineAsync(FormatLine(snapshot)).ConfigureAwait(false);
        }
    }

    /// <summary>One line per refresh: grep-able, no terminal control codes.</summary>
    internal static string FormatLine(DiagnosisReport r)
    {
        var inv = CultureInfo.InvariantCulture;
        var pool = r.ThreadPool;
        var delay = pool.QueueDelayMilliseconds is { } d ? $"delay p50={d.P50.ToString("0.##", inv)}ms p99={d.P99.ToString("0.##", inv)}ms" : "delay=n/a";
        var top = r.Findings.FirstOrDefault(f => f.Severity >= Severity.Warning);
        var culprit = top is null ? "no problem" : $"{top.Kind}" + (top.CallSites.Count > 0 ? $" at {top.CallSites[0].Describe()} ({top.Count}x)" : $" ({top.Count})");
        return $"t={r.DurationSeconds.ToString("0.0", inv)}s {r.Verdict.Name()} threads={pool.ThreadCountMax} queue.max={pool.QueueLengthMax} {delay} " +
               $"injections starvation={pool.Injections.Starvation} cooperative={pool.Injections.CooperativeBlocking} | {culprit}";
    }
}
