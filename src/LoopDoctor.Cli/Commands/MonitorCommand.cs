using System.CommandLine;
using LoopDoctor.Cli.CommandLine;
using LoopDoctor.Cli.Fleet;
using LoopDoctor.Cli.Reporting;
using LoopDoctor.Cli.Rules;
using LoopDoctor.Cli.Runs;
using LoopDoctor.Cli.Snapshots;
using LoopDoctor.Cli.Sources;
using LoopDoctor.Cli.Sidecar;
using LoopDoctor.Cli.Targets;

namespace LoopDoctor.Cli.Commands;

internal sealed record MonitorOptions(int? ProcessId, string? Name, TimeSpan Refresh, TimeSpan? Duration, ReportFormat Format, string? Output, bool NoInject, int? PrometheusPort = null,
    StackSampling StackSampling = StackSampling.OnLag, string? DiagnosticPort = null, bool All = false, string PrometheusAddress = "127.0.0.1",
    SnapshotMode Snapshot = SnapshotMode.Auto, bool KeepDump = false, TimeSpan? HungAfter = null);

/// <summary>
/// <c>loopdoctor monitor</c>: a live view (one plain line per refresh on stderr) of the pool and the top culprits;
/// Ctrl+C ends with the same report as diagnose. With <c>--diagnostic-port</c> or <c>--all</c>, every process of a
/// fleet at once (<see cref="FleetMonitor"/>): one report per process, a JSON array with <c>--format json</c>.
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
            Description = "Also serve the monitored processes' figures at http://ADDRESS:PORT/metrics (Prometheus sidecar; 0 picks a free port).",
        };
        var prometheusAddress = new Option<string>("--prometheus-address")
        {
            Description = "The address --prometheus-port binds: 127.0.0.1 (default), or 0.0.0.0 where Prometheus scrapes from outside (a pod's sidecar).",
            DefaultValueFactory = _ => "127.0.0.1",
        };
        prometheusAddress.Validators.Add(r =>
        {
            if (!System.Net.IPAddress.TryParse(r.GetValueOrDefault<string>(), out _))
            {
                r.AddError($"--prometheus-address must be an IP address such as 127.0.0.1 or 0.0.0.0, not '{r.GetValueOrDefault<string>()}'.");
            }
        });
        var diagnosticPort = new Option<string?>("--diagnostic-port")
        {
            Description = "Listen on this Unix socket for every .NET process started with DOTNET_DiagnosticPorts=PATH,nosuspend, and monitor each one that connects.",
        };
        var all = new Option<bool>("--all")
        {
            Description = "Monitor every .NET process this user can see, and each new one (with --name: only those of that name).",
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
            processId, name, refresh, duration, format, output, noInject, prometheusPort, prometheusAddress, stackSampling, diagnosticPort, all,
        };
        var snapshot = CommonOptions.Snapshot(command, "While monitoring, one is taken by itself when a thread has waited to enter a lock for 5 s or more " +
                                                       "(the target under 512 MB): once per such episode, at most every 10 minutes. With -p or -n only.");
        command.Validators.Add(result =>
        {
            var hasName = result.GetResult(name) is not null;
            var hasAll = result.GetValue(all);
            var targets = (result.GetResult(processId) is not null ? 1 : 0) + (hasName && !hasAll ? 1 : 0)
                          + (result.GetResult(diagnosticPort) is not null ? 1 : 0) + (hasAll ? 1 : 0);
            if (targets != 1)
            {
                result.AddError("Specify the target with exactly one of --process-id (-p), --name (-n), --diagnostic-port or --all.");
            }

            if ((hasAll || result.GetResult(diagnosticPort) is not null) && snapshot.Given(result))
            {
                result.AddError("--snapshot, --no-snapshot and --keep-dump need one process (-p or -n): a fleet is not snapshotted.");
            }
        });
        command.SetAction((result, ct) => RunAsync(
            new MonitorOptions(result.GetValue(processId), result.GetValue(name), result.GetValue(refresh), result.GetValue(duration), result.GetValue(format), result.GetValue(output),
                result.GetValue(noInject), result.GetValue(prometheusPort), result.GetValue(stackSampling), result.GetValue(diagnosticPort), result.GetValue(all), result.GetValue(prometheusAddress)!,
                snapshot.Mode(result), result.GetValue(snapshot.KeepDump), result.GetValue(snapshot.HungAfter)),
            console, ct));
        return command;
    }

    public static async Task<int> RunAsync(MonitorOptions options, CliConsole console, CancellationToken cancellationToken)
    {
        var session = new LiveSessionOptions(!options.NoInject, options.Refresh < MinimumRefresh ? MinimumRefresh : options.Refresh, options.StackSampling);
        if (options.DiagnosticPort is not null || options.All)
        {
            return await RunFleetAsync(options, session, console, cancellationToken).ConfigureAwait(false);
        }

        var target = TargetProcess.Resolve(options.ProcessId, options.Name);
        List<IRunObserver> observers = [new LiveView(options.Refresh, console, table: true)];
        if (options.PrometheusPort is { } port)
        {
            observers.Insert(0, new PrometheusSidecarObserver(options.PrometheusAddress, port, console));
        }

        var diagnosis = DiagnosisOptions.WithHungAfter(options.HungAfter);
        var outcome = await new DiagnosisRun(observers, diagnosis: diagnosis).AttachAsync(target, session, options.Duration, console, cancellationToken,
            snapshot: new SnapshotRequest(options.Snapshot, options.KeepDump, WhileRunning: true)).ConfigureAwait(false);
        return (int)await ReportOutput.WriteAsync(outcome.Report, options.Format, options.Output, console).ConfigureAwait(false);
    }

    private static readonly TimeSpan MinimumRefresh = TimeSpan.FromMilliseconds(100);

    private static async Task<int> RunFleetAsync(MonitorOptions options, LiveSessionOptions session, CliConsole console, CancellationToken cancellationToken)
    {
        var fleet = new FleetMonitor(session, console);
        using var sidecar = options.PrometheusPort is { } port
            ? PrometheusSidecar.StartFleet(fleet.SidecarTargets, options.PrometheusAddress, port, message => console.Error.WriteLine($"loopdoctor: metrics endpoint: {message}"))
            : null;
        await using var listener = options.DiagnosticPort is { } path
            ? ReverseConnectListener.Start(path, (advertisement, gone) =>
            {
                fleet.Add(advertisement.ProcessId, gone);
                return Task.CompletedTask;
            }, message => console.Error.WriteLine($"loopdoctor: {message}"))
            : null;
        await console.Error.WriteLineAsync((listener is not null
            ? $"loopdoctor: listening on {listener.Path} for .NET processes started with DOTNET_DiagnosticPorts={listener.Path},nosuspend"
            : $"loopdoctor: watching every .NET process{(options.Name is { } n ? $" named {n}" : "")}") +
            (sidecar is not null ? $"; serving Prometheus metrics at {sidecar.Url}" : "") + "; Ctrl+C for the reports...").ConfigureAwait(false);

        using var watching = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (options.Duration is { } duration)
        {
            watching.CancelAfter(duration);
        }

        var tasks = new List<Task> { fleet.WatchAsync(options.Refresh < MinimumRefresh ? MinimumRefresh : options.Refresh, watching.Token) };
        if (options.All)
        {
            tasks.Add(fleet.DiscoverAsync(options.Name, watching.Token));
        }

        try
        {
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C or --duration: the reports follow.
        }

        var reports = await fleet.StopAsync().ConfigureAwait(false);
        return (int)await ReportOutput.WriteAllAsync(reports, options.Format, options.Output, console).ConfigureAwait(false);
    }
}
