using System.CommandLine;
using LoopDoctor.Cli.CommandLine;
using LoopDoctor.Cli.Reporting;
using LoopDoctor.Cli.Runs;
using LoopDoctor.Cli.Sources;
using LoopDoctor.Cli.Sidecar;
using LoopDoctor.Cli.Targets;

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
        List<IRunObserver> observers = [new LiveView(options.Refresh, console, table: true)];
        if (options.PrometheusPort is { } port)
        {
            observers.Insert(0, new PrometheusSidecarObserver(port, console));
        }

        var session = new LiveSessionOptions(!options.NoInject, options.Refresh < MinimumRefresh ? MinimumRefresh : options.Refresh, options.StackSampling);
        var outcome = await new DiagnosisRun(observers).AttachAsync(target, session, options.Duration, console, cancellationToken).ConfigureAwait(false);
        return (int)await ReportOutput.WriteAsync(outcome.Report, options.Format, options.Output, console).ConfigureAwait(false);
    }

    private static readonly TimeSpan MinimumRefresh = TimeSpan.FromMilliseconds(100);
}
