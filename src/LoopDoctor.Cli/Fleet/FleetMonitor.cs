using System.Collections.Concurrent;
using System.Globalization;
using LoopDoctor.Cli.CommandLine;
using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Reporting;
using LoopDoctor.Cli.Runs;
using LoopDoctor.Cli.Sidecar;
using LoopDoctor.Cli.Sources;
using LoopDoctor.Cli.Targets;

namespace LoopDoctor.Cli.Fleet;

/// <summary>
/// <c>monitor --diagnostic-port PATH</c> / <c>monitor --all</c>: every .NET process that connects (or that appears) is
/// diagnosed on its own, with its own session and pipeline (one <see cref="DiagnosisRun"/> each), while one optional
/// <c>/metrics</c> serves them all, labelled <c>pid</c>/<c>process</c>. Ends on Ctrl+C or <c>--duration</c> with one
/// report per process seen, in the order they came.
/// </summary>
internal sealed class FleetMonitor
{
    /// <summary>How often <c>--all</c> looks for new processes.</summary>
    public static readonly TimeSpan DiscoveryInterval = TimeSpan.FromSeconds(2);

    private readonly LiveSessionOptions _session;
    private readonly CliConsole _console;
    private readonly ConcurrentDictionary<int, FleetMember> _members = new();
    private readonly List<FleetMember> _order = [];
    private readonly CancellationTokenSource _stop = new();

    public FleetMonitor(LiveSessionOptions session, CliConsole console)
    {
        _session = session;
        _console = console;
    }

    /// <summary>The processes being diagnosed now (exited ones are gone).</summary>
    public IReadOnlyList<FleetMember> Live => _members.Values.Where(m => m.IsLive).OrderBy(m => m.Target.ProcessId).ToList();

    /// <summary>Targets for the Prometheus endpoint: the live processes, labelled pid/process.</summary>
    public IReadOnlyList<SidecarTarget> SidecarTargets() =>
        Live.Where(m => m.View is not null).Select(m => new SidecarTarget(PrometheusSidecar.FleetLabels(m.Target), m.View!.Snapshot)).ToList();

    /// <summary>Starts diagnosing <paramref name="pid"/> unless it already is; <paramref name="gone"/> completes when it leaves.</summary>
    public void Add(int pid, Task? gone = null)
    {
        if (_stop.IsCancellationRequested || pid == Environment.ProcessId || _members.ContainsKey(pid))
        {
            return;
        }

        TargetProcess target;
        try
        {
            target = TargetProcess.Describe(pid);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            _console.Error.WriteLine($"loopdoctor: pid {pid} connected but cannot be read: {ex.Message}");
            return;
        }

        var member = new FleetMember(new TargetInfo(pid, target.Name));
        if (!_members.TryAdd(pid, member))
        {
            return;
        }

        lock (_order)
        {
            _order.Add(member);
        }

        var run = new DiagnosisRun([member]);
        // Each session starts (rundown, agent injection) on its own thread: one slow attach does not hold the others.
        member.Outcome = Task.Factory.StartNew(
            async () =>
            {
                await StartupGate.WaitAsync(pid, TimeProvider.System, () => _console.Error.WriteLine(
                    $"loopdoctor: pid {pid} ({target.Name}) is starting; attaching once it has run {StartupGate.CpuTime.TotalSeconds:0} s of CPU " +
                    $"or lived {StartupGate.MaxAge.TotalSeconds:0} s ({StartupGate.IdleAge.TotalSeconds:0} s if idle) (a session started during .NET's EventSource initialisation can deadlock it, dotnet/runtime#119014)."),
                    _stop.Token).ConfigureAwait(false);
                return await run.AttachAsync(target, _session, duration: null, _console, _stop.Token).ConfigureAwait(false);
            },
            CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
        _ = member.Outcome.ContinueWith(t =>
        {
            member.IsLive = false;
            if (t.Exception?.GetBaseException() is { } error)
            {
                _console.Error.WriteLine($"loopdoctor: pid {pid} ({target.Name}): {error.Message}");
            }
        }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        if (gone is not null)
        {
            // The runtime's connection closed: out of the next scrape at once; its session ends by itself.
            _ = gone.ContinueWith(_ => member.IsLive = false, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        }
    }

    /// <summary><c>--all</c>: adds every .NET process it can see (optionally only those named <paramref name="name"/>), now and every <see cref="DiscoveryInterval"/>.</summary>
    public async Task DiscoverAsync(string? name, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(DiscoveryInterval);
        do
        {
            foreach (var process in TargetProcess.List())
            {
                if (name is null || string.Equals(process.Name, name, StringComparison.OrdinalIgnoreCase))
                {
                    Add(process.ProcessId);
                }
            }
        }
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
    }

    /// <summary>The live view: one line per live process every <paramref name="refresh"/> (grep-able, prefixed by pid).</summary>
    public async Task WatchAsync(TimeSpan refresh, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(refresh);
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            var live = Live.Where(m => m.View is not null).ToList();
            await _console.Error.WriteLineAsync($"loopdoctor: {live.Count} process{(live.Count == 1 ? "" : "es")}").ConfigureAwait(false);
            foreach (var member in live)
            {
                await _console.Error.WriteLineAsync($"  pid {member.Target.ProcessId.ToString(CultureInfo.InvariantCulture)} {member.Target.ProcessName}: " +
                                                    LiveView.FormatLine(member.View!.Snapshot())).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Stops every session and returns one report per process seen, in the order they came.</summary>
    public async Task<IReadOnlyList<DiagnosisReport>> StopAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        List<FleetMember> members;
        lock (_order)
        {
            members = [.. _order];
        }

        var reports = new List<DiagnosisReport>();
        foreach (var member in members)
        {
            try
            {
                reports.Add((await member.Outcome!.ConfigureAwait(false)).Report);
            }
            catch (Exception ex) when (ex is LoopDoctorException or OperationCanceledException or IOException)
            {
                // Never attached (gone before its session started, or refused): said on stderr when it happened.
            }
        }

        return reports;
    }
}

/// <summary>One process of the fleet: who it is, its run's view once the session runs, and how its run ended.</summary>
internal sealed class FleetMember(TargetInfo target) : IRunObserver
{
    public TargetInfo Target { get; } = target;

    private volatile bool _isLive = true;

    /// <summary>False once its process left (connection closed, session ended).</summary>
    public bool IsLive
    {
        get => _isLive;
        set => _isLive = value;
    }

    public RunView? View { get; private set; }

    public Task<DiagnosisOutcome>? Outcome { get; set; }

    public async Task WatchAsync(RunView run, CancellationToken cancellationToken)
    {
        View = run;
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The run ended.
        }
    }
}
