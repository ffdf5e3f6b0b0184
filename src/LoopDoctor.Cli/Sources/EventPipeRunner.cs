using System.Net.Sockets;
using LoopDoctor.Cli.Targets;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Etlx;

namespace LoopDoctor.Cli.Sources;

/// <summary>
/// One EventPipe session on a live process, read on a dedicated thread: start, process, stop, dispose, and the one place
/// that turns the diagnostics client's exceptions into <see cref="LoopDoctorException"/>. Every live session of the CLI
/// (the main one, the on-demand sampler's, the induced-GC one) runs through it. Always stopped on the way out: an
/// attacher that stops reading was seen blocking the target's exit.
/// </summary>
internal sealed class EventPipeRunner : IDisposable
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    private readonly EventPipeSession _session;
    private readonly StopFlag _stop;

    private EventPipeRunner(EventPipeSession session, TraceEventDispatcher? source, Task processing, StopFlag stop)
    {
        _session = session;
        Source = source;
        Processing = processing;
        _stop = stop;
    }

    /// <summary>The session's events (a TraceLog, with stacks resolved in real time, unless started without stacks); null for a session read only to drain it.</summary>
    public TraceEventDispatcher? Source { get; }

    /// <summary>Completes when the stream ends: stopped, broken by the target's exit, or disposed.</summary>
    public Task Processing { get; }

    /// <summary>
    /// Starts a session. With <paramref name="subscribe"/>, its events are read through TraceLog (a rundown at start names the
    /// methods already compiled) and handed to the subscriber's handlers; without, the stream is only drained.
    /// </summary>
    /// <param name="onStarted">Runs once the session exists, before its stream is read (a runtime suspended at startup resumes here:
    /// the stream's header only comes once it runs).</param>
    /// <param name="onEnd">Runs on the reader thread when the stream ends (flush what is buffered).</param>
    public static EventPipeRunner Start(
        int processId,
        IReadOnlyList<EventPipeProvider> providers,
        int circularBufferMB,
        Action<TraceLogEventSource>? subscribe = null,
        Action? onStarted = null,
        Action? onEnd = null) =>
        Start(processId,
            client => client.StartEventPipeSession(providers, requestRundown: false, circularBufferMB: circularBufferMB),
            subscribe is null ? null : (client, session) =>
            {
                // A runtime resumed by onStarted has compiled nothing yet, and the rundown session TraceLog would open could
                // deadlock with it: a program that exits at once waits in shutdown for this session's unread stream while the
                // rundown waits for the runtime's answer (seen under load as "did not start within 30 s").
                var rundown = onStarted is null ? TraceLog.EventPipeRundownConfiguration.Enable(client) : TraceLog.EventPipeRundownConfiguration.None();
                var source = TraceLog.CreateFromEventPipeSession(session, rundown);
                subscribe(source);
                return source;
            },
            onStarted, onEnd);

    /// <summary>
    /// Starts a session whose events carry no stack (the runtime walks none: the cheap way to read frequent events) and
    /// reads it without TraceLog.
    /// </summary>
    public static EventPipeRunner StartWithoutStacks(int processId, IReadOnlyList<EventPipeProvider> providers, int circularBufferMB, Action<EventPipeEventSource> subscribe) =>
        Start(processId,
            client =>
            {
                try
                {
                    return client.StartEventPipeSession(new EventPipeSessionConfiguration(providers, circularBufferMB, requestRundown: false, requestStackwalk: false));
                }
                catch (UnsupportedCommandException)
                {
                    // .NET 8 refuses a stackless session ("Command is not supported", measured on 8.0.31): the same
                    // providers with stacks, dearer per event but the only way its waits get endpoints and awaited tasks.
                    return client.StartEventPipeSession(providers, requestRundown: false, circularBufferMB);
                }
            },
            (_, session) =>
            {
                var source = new EventPipeEventSource(session.EventStream);
                subscribe(source);
                return source;
            },
            onStarted: null, onEnd: null);

    private static EventPipeRunner Start(
        int processId,
        Func<DiagnosticsClient, EventPipeSession> startSession,
        Func<DiagnosticsClient, EventPipeSession, TraceEventDispatcher>? createSource,
        Action? onStarted,
        Action? onEnd)
    {
        var client = new DiagnosticsClient(processId);
        EventPipeSession session;
        try
        {
            session = startSession(client);
        }
        catch (Exception ex)
        {
            throw Translate(ex, processId);
        }

        try
        {
            onStarted?.Invoke();
            var source = createSource?.Invoke(client, session);

            var stop = new StopFlag();
            var processing = Task.Factory.StartNew(() =>
            {
                try
                {
                    if (source is not null)
                    {
                        source.Process();
                    }
                    else
                    {
                        session.EventStream.CopyTo(Stream.Null);
                    }
                }
                catch (Exception) when (stop.Requested || !TargetProcess.IsAlive(processId))
                {
                    // The stream broke because we stopped it or the target is gone: the end of the session, not an error.
                }
                finally
                {
                    onEnd?.Invoke();
                }
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            return new EventPipeRunner(session, source, processing, stop);
        }
        catch (Exception ex)
        {
            session.Dispose();
            throw ex is LoopDoctorException ? ex : Translate(ex, processId);
        }
    }

    /// <summary>Stops the session so the runtime flushes its buffers, then waits (bounded) for the reader to drain them.</summary>
    public async Task StopAsync()
    {
        if (!_stop.TryRequest())
        {
            await Task.WhenAny(Processing, Task.Delay(StopTimeout)).ConfigureAwait(false);
            return;
        }

        if (!Processing.IsCompleted)
        {
            try
            {
                using var timeout = new CancellationTokenSource(StopTimeout);
                await _session.StopAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsSessionGone(ex))
            {
                // Target gone or unresponsive: disposing the session below closes the stream.
            }
        }

        if (await Task.WhenAny(Processing, Task.Delay(StopTimeout)).ConfigureAwait(false) != Processing)
        {
            _session.Dispose();
            await Task.WhenAny(Processing, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        _stop.TryRequest();
        _session.Dispose();
    }

    /// <summary>Set before the stream is broken on purpose, so the reader knows the break is the end, not an error.</summary>
    private sealed class StopFlag
    {
        private int _requested;

        public bool Requested => Volatile.Read(ref _requested) == 1;

        public bool TryRequest() => Interlocked.Exchange(ref _requested, 1) == 0;
    }

    /// <summary>The exceptions that mean the session or its target went away, rather than a bug of ours.</summary>
    internal static bool IsSessionGone(Exception ex) =>
        ex is OperationCanceledException or ServerNotAvailableException or ServerErrorException or IOException or TimeoutException
            or ObjectDisposedException or EndOfStreamException or UnsupportedCommandException;

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
                $"Process {pid}'s runtime refused this kind of EventPipe session ({ex.Message}); LoopDoctor is tested on .NET 8, 9 and 10.", ex),
            _ => new LoopDoctorException(ExitCode.SessionFailed, $"The EventPipe session on process {pid} failed: {ex.GetType().Name}: {ex.Message}", ex),
        };
    }
}
