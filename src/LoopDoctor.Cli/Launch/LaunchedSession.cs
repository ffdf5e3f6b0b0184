using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Runs;
using LoopDoctor.Cli.Signals;
using LoopDoctor.Cli.Sources;
using LoopDoctor.Cli.Targets;

namespace LoopDoctor.Cli.Launch;

/// <summary>
/// run and check: start the command suspended, start the EventPipe session while its runtime waits before Main, then
/// resume it, so the session sees the program from its first instruction (startup hook, JIT of Main, first requests).
/// </summary>
internal sealed class LaunchedSession : ISignalSource, IAsyncDisposable
{
    /// <summary>Exception.Data key: the program's exit code when it exited before the session started (run passes it on).</summary>
    public const string ChildExitCodeKey = "loopdoctor.childExitCode";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan StartGraceAfterExit = TimeSpan.FromSeconds(5);

    private LaunchedSession(LaunchedChild child, LiveSession session)
    {
        Child = child;
        Session = session;
    }

    public LaunchedChild Child { get; }

    public LiveSession Session { get; }

    public TargetInfo Info => new(Child.TargetPid, Child.Name);

    public TargetRuntime? Runtime => Session.Runtime;

    /// <summary>Loaded by us through the program's startup hooks; it counts once it shows up (a too-old runtime refuses it).</summary>
    public AgentPresence Agent => AgentPresence.Injected;

    public TimeSpan Elapsed => Session.Elapsed;

    public long EventsLost => Session.EventsLost;

    public Task<SessionEnd> RunAsync(TimeSpan? duration, CancellationToken cancellationToken) => Session.RunAsync(duration, cancellationToken);

    public static async Task<LaunchedSession> StartAsync(IReadOnlyList<string> command, TimeSpan connectTimeout, Action<Signal> sink, TimeSpan metricsRefresh, TextWriter? stdoutTo, TextWriter log, CancellationToken cancellationToken)
    {
        var child = await LaunchedChild.StartAsync(command, stdoutTo, connectTimeout, log, cancellationToken).ConfigureAwait(false);
        try
        {
            // The suspended runtime still serves its default diagnostics port (by pid), which the session uses; the agent
            // comes from DOTNET_STARTUP_HOOKS, so nothing is injected.
            var target = TargetProcess.Describe(child.TargetPid);
            // A program that exits right after Resume can leave the stream's opening read waiting (seen under load):
            // never wait for the session's start longer than a grace period after the program is gone.
            var starting = Task.Factory.StartNew(
                () => LiveSession.StartAsync(target, sink, new LiveSessionOptions(Inject: false, metricsRefresh), log, onSessionStarted: child.Resume),
                CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
            var exited = child.WaitForExitAsync(CancellationToken.None);
            var first = await Task.WhenAny(starting, exited, Task.Delay(StartTimeout, CancellationToken.None)).ConfigureAwait(false);
            if (first != starting && first != exited)
            {
                _ = starting.ContinueWith(t => t.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
                throw new LoopDoctorException(ExitCode.SessionFailed, $"The EventPipe session on {target.Name} (pid {child.TargetPid}) did not start within {StartTimeout.TotalSeconds:0} s.");
            }

            if (first == exited &&
                await Task.WhenAny(starting, Task.Delay(StartGraceAfterExit, CancellationToken.None)).ConfigureAwait(false) != starting)
            {
                _ = starting.ContinueWith(t => t.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
                throw new LoopDoctorException(ExitCode.TargetExited,
                    $"{target.Name} (pid {child.TargetPid}) exited with code {exited.Result} before the session could start.")
                {
                    Data = { [ChildExitCodeKey] = exited.Result },
                };
            }

            var session = await starting.ConfigureAwait(false);
            return new LaunchedSession(child, session);
        }
        catch
        {
            await child.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Session.Dispose();
        await Child.DisposeAsync().ConfigureAwait(false);
    }
}
