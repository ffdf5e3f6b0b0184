using System.Globalization;
using LoopDoctor.Cli.CommandLine;
using LoopDoctor.Cli.Detectors;
using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Sessions;
using LoopDoctor.Cli.Targets;

namespace LoopDoctor.Cli.Commands;

/// <summary>Attach, observe, stop, report: what diagnose, monitor and demo have in common.</summary>
internal static class LiveDiagnosis
{
    public static async Task<DiagnosisReport> RunAsync(
        TargetProcess target,
        TimeSpan? duration,
        bool inject,
        TimeSpan metricsRefresh,
        CliConsole console,
        Func<LiveSession, DiagnosisPipeline, CancellationToken, Task>? whileRunning,
        CancellationToken cancellationToken,
        StackSampling sampling = StackSampling.Always,
        bool collectGarbage = false)
    {
        var pipeline = new DiagnosisPipeline();
        using var session = await LiveSession.StartAsync(target, pipeline, new LiveSessionOptions(inject, metricsRefresh, sampling, collectGarbage), console.Error, cancellationToken: cancellationToken).ConfigureAwait(false);
        var what = duration is { } d ? $"for {d.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s" : "until Ctrl+C";
        await console.Error.WriteLineAsync($"loopdoctor: attached to {target.Name} (pid {target.ProcessId}, {session.Runtime?.ToString() ?? "runtime version unknown"}), observing {what}...").ConfigureAwait(false);

        using var live = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var background = whileRunning?.Invoke(session, pipeline, live.Token) ?? Task.CompletedTask;
        var end = await session.RunAsync(duration, cancellationToken).ConfigureAwait(false);
        await live.CancelAsync().ConfigureAwait(false);
        try
        {
            await background.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        if (Environment.GetEnvironmentVariable("LOOPDOCTOR_DEBUG") == "1")
        {
            await console.Error.WriteLineAsync("loopdoctor: signals: " + string.Join(", ", pipeline.SignalCounts.OrderBy(p => p.Key).Select(p => $"{p.Key}={p.Value}"))).ConfigureAwait(false);
        }

        // An agent we did not inject now may have been injected by an earlier loopdoctor run: its AgentStarted says so.
        var agent = pipeline.AgentSeen switch
        {
            { Mode: "Injected" } => AgentPresence.Injected,
            not null when session.Agent != AgentPresence.Injected => AgentPresence.Embedded,
            _ => session.Agent,
        };
        var seconds = session.Elapsed.TotalSeconds;
        var report = pipeline.BuildReport(new TargetInfo(target.ProcessId, target.Name), seconds, agent);
        var lost = session.EventsLost;
        if (lost > 0)
        {
            await console.Error.WriteLineAsync($"loopdoctor: the session lost {lost} events (the target produced them faster than they could be read); counts are lower bounds.").ConfigureAwait(false);
        }
        switch (end)
        {
            case SessionEnd.TargetExited:
                await console.Error.WriteLineAsync($"loopdoctor: process {target.ProcessId} exited after {seconds:0.0} s; the report covers what was seen until then.").ConfigureAwait(false);
                report = report with { TargetExited = true, Incomplete = $"the target exited after {seconds.ToString("0.0", CultureInfo.InvariantCulture)} s" };
                break;
            case SessionEnd.Cancelled:
                await console.Error.WriteLineAsync($"loopdoctor: interrupted after {seconds:0.0} s; session stopped.").ConfigureAwait(false);
                break;
        }

        return report.WithEventsLost(lost);
    }
}
