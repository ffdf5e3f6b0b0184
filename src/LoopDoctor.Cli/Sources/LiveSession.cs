using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Runs;
using LoopDoctor.Cli.Signals;
using LoopDoctor.Cli.Targets;
using Microsoft.Diagnostics.Tracing.Etlx;

namespace LoopDoctor.Cli.Sources;

internal enum SessionEnd
{
    /// <summary>The requested duration elapsed.</summary>
    Completed,

    /// <summary>Ctrl+C (or the caller's cancellation).</summary>
    Cancelled,

    /// <summary>The target exited mid-session.</summary>
    TargetExited,
}

/// <param name="CollectGarbage">Induce one full GC in the target one second before the end (opt-in: it pauses the target).</param>
internal sealed record LiveSessionOptions(bool Inject, TimeSpan MetricsRefresh, StackSampling Sampling = StackSampling.Always, bool CollectGarbage = false);

/// <summary>
/// The live source of a diagnosis: the main EventPipe session on a target (<see cref="EventPipeRunner"/>), its events
/// turned into signals through TraceLog, which resolves stacks in real time (a rundown session at start names the
/// methods already compiled; Jit|Loader events name the later ones), plus the on-demand sampler and the agent.
/// </summary>
internal sealed class LiveSession : ISignalSource, IDisposable
{
    /// <summary>
    /// The runtime-side buffer (MB) that absorbs bursts while loopdoctor reads; when it fills, the runtime drops events and
    /// the report says how many. LOOPDOCTOR_CIRCULAR_BUFFER_MB overrides it (tests shrink it to provoke losses).
    /// </summary>
    internal static int CircularBufferMB =>
        int.TryParse(Environment.GetEnvironmentVariable("LOOPDOCTOR_CIRCULAR_BUFFER_MB"), out var mb) && mb > 0 ? mb : 256;

    private readonly EventPipeRunner _runner;
    private readonly TraceEventSignalAdapter _adapter;
    private readonly TimeProvider _time;
    private readonly long _startedAt;
    private readonly OnDemandSampler? _sampler;
    private readonly HeapGovernor? _governor = HeapGovernor.Start();
    private readonly bool _collectGarbage;
    private WaitContextOnDemand? _taskEvents;
    private AttachWindow? _attach;
    private TextWriter? _log;

    private LiveSession(TargetProcess target, EventPipeRunner runner, TraceEventSignalAdapter adapter, OnDemandSampler? sampler, TimeProvider time, bool collectGarbage)
    {
        Target = target;
        Info = new TargetInfo(target.ProcessId, target.Name);
        _runner = runner;
        _adapter = adapter;
        _sampler = sampler;
        _time = time;
        _collectGarbage = collectGarbage;
        _startedAt = time.GetTimestamp();
    }

    public TargetProcess Target { get; }

    public TargetInfo Info { get; }

    /// <summary>The target's runtime as its diagnostics server reports it; null when it could not be read.</summary>
    public TargetRuntime? Runtime { get; private set; }

    /// <summary>Times the adapter trimmed TraceLog's interned call stacks (what keeps a long monitor's memory flat).</summary>
    internal int StackTrims => _adapter.StackTrims;

    /// <summary>The agent as loopdoctor found or loaded it at the start (see <see cref="AgentAttachment"/>).</summary>
    public AgentPresence Agent { get; private set; }

    public TimeSpan Elapsed => _time.GetElapsedTime(_startedAt);

    /// <summary>Events the runtime dropped for this session.</summary>
    public long EventsLost => _runner.Source is TraceLogEventSource source ? TraceEventInternals.EventsLost(source) : 0;

    /// <summary>Connects, starts the session, finds or (when asked and safe) injects the agent, and starts reading.</summary>
    /// <param name="onSessionStarted">Called once the EventPipe session runs, before its stream is read (run/check resume a
    /// runtime suspended at startup here: the stream's header only comes once it runs).</param>
    /// <param name="sink">Receives every signal, on the session's reader thread (a <see cref="DiagnosisRun"/>'s Observe).</param>
    public static async Task<LiveSession> StartAsync(TargetProcess target, Action<Signal> sink, LiveSessionOptions options, TextWriter log,
        TimeProvider? time = null, Action? onSessionStarted = null, CancellationToken cancellationToken = default)
    {
        time ??= TimeProvider.System;
        var announcement = new AgentAnnouncement();
        OnDemandSampler? sampler = null;
        WaitContextOnDemand? taskEvents = null;
        TraceEventSignalAdapter? adapter = null;
        AttachWindow? attach = null;
        // Metric values published for another tool's session (dotnet-counters, a second loopdoctor) are not ours.
        var metricsSessionId = SessionProviders.NewMetricsSessionId();
        var runner = EventPipeRunner.Start(target.ProcessId,
            SessionProviders.Create(options.MetricsRefresh, sampleStacks: options.Sampling == StackSampling.Always, metricsSessionId), CircularBufferMB,
            subscribe: source =>
            {
                var mainClock = SessionClock.Of(source);
                attach = new AttachWindow(mainClock);
                taskEvents = new WaitContextOnDemand(target.ProcessId, mainClock, sink, log, time);
                if (options.Sampling == StackSampling.OnLag)
                {
                    // The sampler's samples reach the task events' trigger too (on .NET 8 they are the only sign of a task wait).
                    sampler = new OnDemandSampler(target.ProcessId, mainClock, signal =>
                    {
                        sink(signal);
                        taskEvents.Observe(signal);
                    }, log, time);
                }

                adapter = new TraceEventSignalAdapter(source, signal =>
                {
                    if (!attach!.Admits(signal))
                    {
                        return;
                    }

                    sink(signal);
                    announcement.Observe(signal);
                    sampler?.Observe(signal);
                    taskEvents.Observe(signal);
                }, metricsSessionId);
            },
            onStarted: onSessionStarted,
            onEnd: () => adapter?.FlushSamples());
        var live = new LiveSession(target, runner, adapter!, sampler, time, options.CollectGarbage) { _taskEvents = taskEvents };
        try
        {
            live.Runtime = TargetRuntime.TryRead(target.ProcessId, out var runtimeProblem);
            var firstLook = sampler?.LookAtAttach() ?? Task.CompletedTask;
            live.Agent = await AgentAttachment.EnsureAsync(target, announcement, options.Inject, live.Runtime, runtimeProblem, log, cancellationToken).ConfigureAwait(false);
            live._attach = attach;
            live._log = log;
            _ = firstLook.ContinueWith(_ => attach!.Settle(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return live;
        }
        catch
        {
            live.Dispose();
            throw;
        }
    }

    /// <summary>Runs until <paramref name="duration"/> elapses, <paramref name="cancellationToken"/> fires or the target exits; then stops.</summary>
    public async Task<SessionEnd> RunAsync(TimeSpan? duration, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var delay = Task.Delay(duration ?? Timeout.InfiniteTimeSpan, _time, cts.Token);
        if (_collectGarbage && duration is { } d && d >= TimeSpan.FromSeconds(2) && Agent != AgentPresence.None)
        {
            _ = InduceGarbageCollectionAsync(d - TimeSpan.FromSeconds(1), cts.Token);
        }

        var first = await Task.WhenAny(delay, _runner.Processing).ConfigureAwait(false);
        var end = first == _runner.Processing
            ? SessionEnd.TargetExited
            : cancellationToken.IsCancellationRequested ? SessionEnd.Cancelled : SessionEnd.Completed;
        await cts.CancelAsync().ConfigureAwait(false);
        await StopAsync().ConfigureAwait(false);
        if (end != SessionEnd.TargetExited && !TargetProcess.IsAlive(Target.ProcessId))
        {
            end = SessionEnd.TargetExited;
        }

        return end;
    }

    /// <summary>
    /// Unobserved task exceptions surface only when the GC finalizes the faulted tasks, which a quiet app may not do for
    /// minutes. On request (--collect-garbage), one second before the end, a short second session with the runtime's
    /// GCHeapCollect keyword (what dotnet-gcdump uses) induces one blocking collection, so the agent reports them within
    /// this session. Opt-in because the pause grows with the target's heap.
    /// </summary>
    private async Task InduceGarbageCollectionAsync(TimeSpan after, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(after, _time, cancellationToken).ConfigureAwait(false);
            // The runtime collects before it answers the session request (T1: ~3.4 s on 2 GB of small objects): off the pool.
            using var gc = await Task.Factory.StartNew(
                () => EventPipeRunner.Start(Target.ProcessId, SessionProviders.CreateInducedCollection(), circularBufferMB: 16),
                cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
            await Task.Delay(TimeSpan.FromMilliseconds(200), _time, cancellationToken).ConfigureAwait(false);
            await gc.StopAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is LoopDoctorException || EventPipeRunner.IsSessionGone(ex))
        {
            // Best effort: the report is still right about everything else.
        }
    }

    /// <summary>Stops the session (and the sampler) so the runtime flushes its buffers, then waits for the reader to drain them.</summary>
    public async Task StopAsync()
    {
        if (_sampler is not null)
        {
            await _sampler.StopAsync().ConfigureAwait(false);
        }

        if (_taskEvents is not null)
        {
            await _taskEvents.StopAsync().ConfigureAwait(false);
        }

        await _runner.StopAsync().ConfigureAwait(false);
        if (Interlocked.Exchange(ref _attach, null)?.LeftOut is { Count: > 0 } leftOut)
        {
            _log?.WriteLine($"loopdoctor: left out {leftOut.Count} lag probe{(leftOut.Count == 1 ? "" : "s")} that waited while loopdoctor attached " +
                            $"(up to {leftOut.LongestMs:0} ms): the attach's method rundown holds the target back for a moment.");
        }
    }

    public void Dispose()
    {
        _sampler?.Dispose();
        _taskEvents?.Dispose();
        _runner.Dispose();
        _governor?.Dispose();
    }
}
