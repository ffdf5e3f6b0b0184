using System.Diagnostics;
using System.Net.Sockets;
using System.Reflection;
using Microsoft.Diagnostics.Tracing;
using LoopDoctor.Cli.Detectors;
using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Targets;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing.Etlx;

namespace LoopDoctor.Cli.Sessions;

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
/// A live EventPipe session on a target feeding the pipeline through TraceLog, which resolves stacks in real time
/// (a rundown session at start names the methods already compiled; Jit|Loader events name the later ones).
/// Always stopped on the way out: an attacher that stops reading was seen blocking the target's exit.
/// </summary>
internal sealed class LiveSession : IDisposable
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The runtime-side buffer (MB) that absorbs bursts while loopdoctor reads; when it fills, the runtime drops events and
    /// the report says how many. LOOPDOCTOR_CIRCULAR_BUFFER_MB overrides it (tests shrink it to provoke losses).
    /// </summary>
    internal static int CircularBufferMB =>
        int.TryParse(Environment.GetEnvironmentVariable("LOOPDOCTOR_CIRCULAR_BUFFER_MB"), out var mb) && mb > 0 ? mb : 256;

    private readonly EventPipeSession _session;
    private readonly TraceLogEventSource _source;
    private readonly TraceEventSignalAdapter _adapter;
    private readonly Task _processing;
    private readonly TimeProvider _time;
    private readonly long _startedAt;
    private readonly OnDemandSampler? _sampler;
    private readonly HeapGovernor? _governor = HeapGovernor.Start();
    private readonly bool _collectGarbage;
    private int _stopRequested;

    private LiveSession(TargetProcess target, EventPipeSession session, TraceLogEventSource source, DiagnosisPipeline pipeline, AgentPresence agent, TimeProvider time,
        StackSampling sampling, bool collectGarbage, TextWriter log)
    {
        _collectGarbage = collectGarbage;
        Target = target;
        _session = session;
        _source = source;
        _time = time;
        Agent = agent;
        if (sampling == StackSampling.OnLag)
        {
            var sampler = _sampler = new OnDemandSampler(target.ProcessId, source, pipeline.Observe, log, time);
            _adapter = new TraceEventSignalAdapter(source, signal =>
            {
                pipeline.Observe(signal);
                sampler.Observe(signal);
            });
        }
        else
        {
            _adapter = new TraceEventSignalAdapter(source, pipeline.Observe);
        }

        _startedAt = time.GetTimestamp();
        _processing = Task.Factory.StartNew(() =>
        {
            try
            {
                source.Process();
            }
            catch (Exception) when (Volatile.Read(ref _stopRequested) == 1 || !TargetProcess.IsAlive(target.ProcessId))
            {
                // The stream broke because we stopped it or the target is gone: the end of the session, not an error.
            }
            finally
            {
                _adapter.FlushSamples();
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    public TargetProcess Target { get; }

    /// <summary>The target's runtime as its diagnostics server reports it; null when it could not be read.</summary>
    public TargetRuntime? Runtime { get; private set; }

    /// <summary>Times the adapter trimmed TraceLog's interned call stacks (what keeps a long monitor's memory flat).</summary>
    internal int StackTrims => _adapter.StackTrims;

    public AgentPresence Agent { get; private set; }

    public TimeSpan Elapsed => _time.GetElapsedTime(_startedAt);

    /// <summary>
    /// Events the runtime dropped for this session: EventPipeEventSource counts the gaps in EventPipe's per-thread
    /// sequence numbers (reported in its sequence-point blocks).
    /// </summary>
    public long EventsLost
    {
        get
        {
            try
            {
                var log = _source.TraceLog;
                return Math.Max(Math.Max(_source.EventsLost, log?.EventsLost ?? 0), TraceEventInternals.EventsLostByRawSource(log));
            }
            catch (Exception ex) when (ex is ObjectDisposedException or InvalidOperationException or TargetException or FieldAccessException)
            {
                return 0;
            }
        }
    }

    /// <summary>Connects, starts the session (and injects the agent when asked and absent), and starts reading.</summary>
    /// <param name="onSessionStarted">Called once the EventPipe session runs, before its stream is read (run/check resume a
    /// runtime suspended at startup here: the stream's header only comes once it runs).</param>
    public static LiveSession Start(TargetProcess target, DiagnosisPipeline pipeline, LiveSessionOptions options, TextWriter log, TimeProvider? time = null, Action? onSessionStarted = null)
    {
        var client = new DiagnosticsClient(target.ProcessId);
        // Linux answers "is the agent loaded?" from /proc/PID/maps at once; elsewhere we listen for AgentStarted briefly.
        var agentLoaded = AgentDetection.IsAgentLoaded(target.ProcessId);
        EventPipeSession session;
        try
        {
            session = client.StartEventPipeSession(SessionProviders.Create(options.MetricsRefresh, sampleStacks: options.Sampling == StackSampling.Always), requestRundown: false, circularBufferMB: CircularBufferMB);
        }
        catch (Exception ex)
        {
            throw Translate(ex, target.ProcessId);
        }

        LiveSession live;
        try
        {
            onSessionStarted?.Invoke();
            var source = TraceLog.CreateFromEventPipeSession(session, TraceLog.EventPipeRundownConfiguration.Enable(client));
            live = new LiveSession(target, session, source, pipeline, AgentPresence.None, time ?? TimeProvider.System, options.Sampling, options.CollectGarbage, log);
        }
        catch (Exception ex)
        {
            session.Dispose();
            throw ex is LoopDoctorException ? ex : Translate(ex, target.ProcessId);
        }

        // Linux tells from /proc/PID/maps whether LoopDoctor.Agent.dll is loaded at all; loaded is not running (an app may
        // reference the agent without starting it), so then we wait briefly for the running agent's AgentStarted. The
        // hook itself is idempotent (it does nothing when an agent runs), so a wrong guess never makes a second agent.
        live.Runtime = TargetRuntime.TryRead(target.ProcessId, out var runtimeProblem);
        if (agentLoaded == true || agentLoaded is null)
        {
            if (WaitForAgent(pipeline, TimeSpan.FromSeconds(2)))
            {
                live.Agent = pipeline.AgentSeen is { Mode: "Injected" } ? AgentPresence.Injected : AgentPresence.Embedded;
                return live;
            }

            live.Agent = AgentPresence.None;
        }

        if (options.Inject)
        {
            live.Agent = AgentInjection.TryInject(client, target.ProcessId, live.Runtime, runtimeProblem, log);
            if (live.Agent == AgentPresence.Injected && !WaitForAgent(pipeline, AgentStartTimeout))
            {
                // The hook ran but refused or failed (it says why on the target's stderr): the report must not claim an agent.
                log.WriteLine($"loopdoctor: the agent did not start in {target.ProcessId} within {AgentStartTimeout.TotalSeconds:0} s (its reason, if any, is on the target's stderr after 'loopdoctor-agent:') — continuing without it ({AgentInjection.WithoutAgentCost}).");
                live.Agent = AgentPresence.None;
            }
        }

        return live;
    }

    private static readonly TimeSpan AgentStartTimeout = TimeSpan.FromSeconds(5);

    private static bool WaitForAgent(DiagnosisPipeline pipeline, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (pipeline.AgentSeen is null && deadline.Elapsed < timeout)
        {
            Thread.Sleep(50); // the CLI's own startup path, not a pool thread of a monitored app
        }

        return pipeline.AgentSeen is not null;
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

        var first = await Task.WhenAny(delay, _processing).ConfigureAwait(false);
        var end = first == _processing
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
            var client = new DiagnosticsClient(Target.ProcessId);
            using var gc = client.StartEventPipeSession(
                new EventPipeProvider(SessionProviders.RuntimeProvider, System.Diagnostics.Tracing.EventLevel.Informational, GcKeyword | GcHeapCollectKeyword),
                requestRundown: false, circularBufferMB: 16);
            var drain = gc.EventStream.CopyToAsync(Stream.Null, cancellationToken);
            await Task.Delay(TimeSpan.FromMilliseconds(200), _time, cancellationToken).ConfigureAwait(false);
            await gc.StopAsync(cancellationToken).ConfigureAwait(false);
            await drain.WaitAsync(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ServerNotAvailableException or ServerErrorException or IOException or TimeoutException or ObjectDisposedException or UnsupportedCommandException)
        {
            // Best effort: the report is still right about everything else.
        }
    }

    private const long GcKeyword = 0x1;
    private const long GcHeapCollectKeyword = 0x800000;

    /// <summary>Stops the session so the runtime flushes its buffers, then waits for the reader to drain them.</summary>
    public async Task StopAsync()
    {
        if (_sampler is not null)
        {
            await _sampler.StopAsync().ConfigureAwait(false);
        }

        if (Interlocked.Exchange(ref _stopRequested, 1) == 1)
        {
            await _processing.ConfigureAwait(false);
            return;
        }

        if (!_processing.IsCompleted)
        {
            try
            {
                using var timeout = new CancellationTokenSource(StopTimeout);
                await _session.StopAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ServerNotAvailableException or ServerErrorException or IOException or TimeoutException or ObjectDisposedException or EndOfStreamException)
            {
                // Target gone or unresponsive: disposing the session below closes the stream.
            }
        }

        if (await Task.WhenAny(_processing, Task.Delay(StopTimeout)).ConfigureAwait(false) != _processing)
        {
            _session.Dispose();
            await Task.WhenAny(_processing, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        Volatile.Write(ref _stopRequested, 1);
        _sampler?.Dispose();
        _session.Dispose();
        _governor?.Dispose();
    }

    /// <summary>Maps client exceptions to one-line user errors.</summary>
    internal static LoopDoctorException Translate(Exception ex, int pid)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is UnauthorizedAccessException || e is SocketException { SocketErrorCode: SocketError.AccessDenied } ||
                e.Message.Contains("Permission denied", StringComparison.OrdinalIgnoreCase))
            {
                return new LoopDoctorException(ExitCode.PermissionDenied,
                    $"Permission denied connecting to process {pid}'s diagnostics port: it belongs to another user (run loopdoctor as that user).", ex);
            }
        }

        if (!TargetProcess.IsAlive(pid))
        {
            return new LoopDoctorException(ExitCode.TargetNotFound, $"Process {pid} exited before the session could start.", ex);
        }

        return ex switch
        {
            ServerNotAvailableException => new LoopDoctorException(ExitCode.TargetNotFound,
                $"Unable to connect to process {pid}: it is not a .NET process or its diagnostics port is not available ({ex.Message}).", ex),
            UnsupportedCommandException => new LoopDoctorException(ExitCode.SessionFailed,
                $"Process {pid}'s runtime does not support this EventPipe session ({ex.Message}); .NET 6 or later is required.", ex),
            _ => new LoopDoctorException(ExitCode.SessionFailed, $"The EventPipe session on process {pid} failed: {ex.GetType().Name}: {ex.Message}", ex),
        };
    }
}
