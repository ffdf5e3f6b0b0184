using System.CommandLine;
using System.Globalization;
using LoopDoctor.Cli.CommandLine;
using LoopDoctor.Cli.Detectors;
using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Reporting;
using LoopDoctor.Cli.Sessions;
using LoopDoctor.Cli.Sidecar;
using LoopDoctor.Cli.Targets;
using Spectre.Console;

namespace LoopDoctor.Cli.Commands;

internal sealed record MonitorOptions(int? ProcessId, string? Name, TimeSpan Refresh, TimeSpan? Duration, ReportFormat Format, string? Output, bool NoInject, int? PrometheusPort = null,
    StackSampling StackSampling = StackSampling.OnLag);

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
            CustomParser = r => CommonOptions.ParseDuration(r),
        };
        var format = CommonOptions.Format();
        var output = CommonOptions.Output();
        var noInject = CommonOptions.NoInject();
        var prometheusPort = new Option<int?>("--prometheus-port")
        {
            Description = "Also serve the attached process's figures at http://127.0.0.1:PORT/metrics (Prometheus sidecar; 0 picks a free port).",
        };
        prometheusPort.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is { } port && (port < 0 || port > 65535))
            {
                r.AddError($"--prometheus-port must be between 0 and 65535, not {port}.");
            }
        });
        var stackSampling = new Option<StackSampling>("--stack-sampling")
        {
            Description = "When to run the sample profiler, the source of long-callback call sites: on-lag (default: only while the pool lags, " +
                          "15 s at a time with 45 s pauses; it is most of an attached monitor's cost to the process), always, or off.",
            DefaultValueFactory = _ => StackSampling.OnLag,
            CustomParser = r =>
            {
                var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "on-lag";
                switch (text.ToLowerInvariant())
                {
                    case "on-lag": return StackSampling.OnLag;
                    case "always": return StackSampling.Always;
                    case "off": return StackSampling.Off;
                    default:
                        r.AddError($"Unknown --stack-sampling '{text}': use on-lag, always or off.");
                        return StackSampling.OnLag;
                }
            },
        };
        var command = new Command("monitor", "Watch a running .NET process live: queue delay, pool threads, queue length, injections by reason and the top culprit call sites. Ctrl+C prints the full diagnosis.")
        {
            processId, name, refresh, duration, format, output, noInject, prometheusPort, stackSampling,
        };
        CommonOptions.RequireOneTarget(command, processId, name);
        command.SetAction((result, ct) => RunAsync(
            new MonitorOptions(result.GetValue(processId), result.GetValue(name), result.GetValue(refresh), result.GetValue(duration), result.GetValue(format), result.GetValue(output), result.GetValue(noInject), result.GetValue(prometheusPort), result.GetValue(stackSampling)),
            console, ct));
        return command;
    }

    public static async Task<int> RunAsync(MonitorOptions options, CliConsole console, CancellationToken cancellationToken)
    {
        var target = TargetProcess.Resolve(options.ProcessId, options.Name);
        var refresh = options.Refresh < TimeSpan.FromMilliseconds(100) ? TimeSpan.FromMilliseconds(100) : options.Refresh;
        var report = await LiveDiagnosis.RunAsync(target, options.Duration, !options.NoInject, refresh, console,
            (session, pipeline, ct) => RunLiveViewAsync(session, pipeline, target, refresh, options.PrometheusPort, console, ct), cancellationToken, options.StackSampling).ConfigureAwait(false);
        return (int)await ReportOutput.WriteAsync(report, options.Format, options.Output, console).ConfigureAwait(false);
    }

    private static async Task RunLiveViewAsync(LiveSession session, DiagnosisPipeline pipeline, TargetProcess target, TimeSpan refresh, int? prometheusPort, CliConsole console, CancellationToken ct)
    {
        if (prometheusPort is not { } port)
        {
            await PrintLoopAsync(session, pipeline, target, refresh, console, ct).ConfigureAwait(false);
            return;
        }

        var info = new TargetInfo(target.ProcessId, target.Name);
        using var sidecar = PrometheusSidecar.Start(info, port,
            () => pipeline.BuildReport(info, session.Elapsed.TotalSeconds, session.Agent),
            message => console.Error.WriteLine($"loopdoctor: metrics endpoint: {message}"));
        await console.Error.WriteLineAsync($"loopdoctor: serving Prometheus metrics for pid {target.ProcessId} at {sidecar.Url}").ConfigureAwait(false);
        await PrintLoopAsync(session, pipeline, target, refresh, console, ct).ConfigureAwait(false);
    }

    private static async Task PrintLoopAsync(LiveSession session, DiagnosisPipeline pipeline, TargetProcess target, TimeSpan refresh, CliConsole console, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(refresh);
        DiagnosisReport Snapshot() => pipeline.BuildReport(new TargetInfo(target.ProcessId, target.Name), session.Elapsed.TotalSeconds, session.Agent);
        if (console.IsInteractive)
        {
            // A terminal: a Spectre.Console live table, redrawn in place. Redirected output gets plain lines instead.
            var table = new Table().Border(TableBorder.Rounded).AddColumns("", "").HideHeaders();
            await AnsiConsole.Live(table).StartAsync(async context =>
            {
                while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
                {
                    Fill(table, Snapshot());
                    context.Refresh();
                }
            }).ConfigureAwait(false);
            return;
        }

        while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
        {
            await console.Error.WriteLineAsync(FormatLine(Snapshot())).ConfigureAwait(false);
        }
    }

    private static void Fill(Table table, DiagnosisReport r)
    {
        var inv = CultureInfo.InvariantCulture;
        var pool = r.ThreadPool;
        table.Rows.Clear();
        table.Title = new TableTitle($"loopdoctor monitor: {r.Target.ProcessName} (pid {r.Target.ProcessId}), Ctrl+C for the diagnosis");
        var verdictColor = r.Verdict switch { Verdict.Starving => "red", Verdict.Degraded => "yellow", _ => "green" };
        table.AddRow(new Text("Verdict"), new Markup($"[{verdictColor}]{r.Verdict.Name()}[/] after {r.DurationSeconds.ToString("0.0", inv)} s, agent {r.Agent.Name()}"));
        table.AddRow(new Text("Pool threads (max)"), new Text(pool.ThreadCountMax.ToString(inv)));
        table.AddRow(new Text("Queue length (max)"), new Text(pool.QueueLengthMax.ToString(inv)));
        table.AddRow(new Text("Queue delay"), new Text(pool.QueueDelayMilliseconds is { } d ? $"p50 {d.P50:0.##} ms, p99 {d.P99:0.##} ms, max {d.Max:0.##} ms" : "n/a (no agent)"));
        table.AddRow(new Text("Injections"), new Text($"{pool.Injections.Starvation} starvation, {pool.Injections.CooperativeBlocking} cooperative blocking"));
        foreach (var f in r.Findings.Take(5))
        {
            var color = f.Severity switch { Severity.Critical => "red", Severity.Warning => "yellow", _ => "grey" };
            var site = f.CallSites.Count > 0 ? $" at {f.CallSites[0].Describe()}" : "";
            table.AddRow(new Markup($"[{color}]{f.Kind}[/]"), new Text($"{f.Count}x, {f.TotalMilliseconds.ToString("0", inv)} ms{site}"));
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
