using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using LoopDoctor.Cli.Targets;
using Microsoft.Diagnostics.NETCore.Client;

namespace LoopDoctor.Cli.Launch;

/// <summary>
/// A program loopdoctor started with the agent as a startup hook and a suspending diagnostics port: its runtime connects
/// to our listening socket and waits before Main until <see cref="Resume"/>. Ctrl+C and SIGTERM sent to loopdoctor are
/// forwarded to it as the same signal. Disposing kills it if it still runs (SIGTERM, then SIGKILL).
/// </summary>
internal sealed class LaunchedChild(Process process, DiagnosticsClientConnector connector, string socketPath, int targetPid, string name, Task stdoutPump)
    : IAsyncDisposable
{
    /// <summary>How long a program may take to connect (its runtime connects before Main). <c>dotnet run</c> waits for its build instead.</summary>
    public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(30);

    private readonly List<PosixSignalRegistration> _signals = [];

    /// <summary>The .NET process observed: the child itself, or for <c>dotnet run</c> the app it launched.</summary>
    public int TargetPid { get; } = targetPid;

    public string Name { get; } = name;

    public bool HasExited => process.HasExited;

    /// <summary>The child's exit code (waits for it to exit).</summary>
    public async Task<int> WaitForExitAsync(CancellationToken cancellationToken = default)
    {
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        await stdoutPump.ConfigureAwait(false);
        return process.ExitCode;
    }

    /// <summary>
    /// Starts <paramref name="command"/> with the agent and waits for its runtime to connect (suspended before Main).
    /// Throws <see cref="LoopDoctorException"/>: LaunchFailed when it cannot start, NotDotNet when it exits or times out without connecting.
    /// </summary>
    public static async Task<LaunchedChild> StartAsync(IReadOnlyList<string> command, TextWriter? stdoutTo, TimeSpan connectTimeout, TextWriter log, CancellationToken cancellationToken)
    {
        var hook = AgentDetection.FindStartupHook(out var problem)
            ?? throw new LoopDoctorException(ExitCode.LaunchFailed, $"The LoopDoctor agent cannot be loaded: {problem}.");

        // Short: a Unix socket path has a ~104-byte limit.
        var socketPath = Path.Combine(Path.GetTempPath(), $"loopdoctor-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}.sock");
        var startInfo = ChildCommand.Create(command, hook, socketPath + ",connect,suspend", stdoutTo is not null);
        var isDotnetRun = ChildCommand.IsDotnetRun(command);

        using var connectCancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // FromDiagnosticPort listens synchronously before its first await: the socket exists before the child starts.
        var connecting = DiagnosticsClientConnector.FromDiagnosticPort(socketPath, connectCancel.Token);
        Process process;
        try
        {
            process = Process.Start(startInfo) ?? throw new LoopDoctorException(ExitCode.LaunchFailed, $"Cannot start '{command[0]}'.");
        }
        catch (Win32Exception ex)
        {
            await connectCancel.CancelAsync().ConfigureAwait(false);
            await DisposeQuietly(connecting).ConfigureAwait(false);
            throw new LoopDoctorException(ExitCode.LaunchFailed, $"Cannot start '{command[0]}': {ex.Message}.", ex);
        }

        var pump = stdoutTo is null ? Task.CompletedTask : PumpAsync(process.StandardOutput, stdoutTo);
        var exited = process.WaitForExitAsync(CancellationToken.None);
        var timeout = Task.Delay(isDotnetRun ? Timeout.InfiniteTimeSpan : connectTimeout, cancellationToken);
        var first = await Task.WhenAny(connecting, exited, timeout).ConfigureAwait(false);
        if (first != connecting || connecting.IsFaulted || connecting.IsCanceled)
        {
            await connectCancel.CancelAsync().ConfigureAwait(false);
            await DisposeQuietly(connecting).ConfigureAwait(false);
            var what = string.Join(' ', command);
            if (first == exited || process.HasExited)
            {
                await pump.ConfigureAwait(false);
                throw new LoopDoctorException(ExitCode.NotDotNet,
                    $"'{what}' exited with code {process.ExitCode.ToString(CultureInfo.InvariantCulture)} without its .NET runtime connecting: it is not a .NET program, failed before its runtime started, or runs with DOTNET_EnableDiagnostics=0.");
            }

            KillTree(process);
            if (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellationToken);
            }

            throw new LoopDoctorException(ExitCode.NotDotNet,
                $"'{what}' did not connect to loopdoctor's diagnostics port within {connectTimeout.TotalSeconds.ToString("0", CultureInfo.InvariantCulture)} s: it is not a .NET program (or runs with DOTNET_EnableDiagnostics=0); stopped it.");
        }

        var connector = await connecting.ConfigureAwait(false);
        var targetPid = isDotnetRun ? FindProcessWithVariable(socketPath) ?? process.Id : process.Id;
        var name = TargetProcess.Describe(targetPid).Name;
        // The hook refuses a runtime the agent cannot run on (one line on the program's stderr); say so here too, with the cost.
        if (TargetRuntime.TryRead(targetPid, out var runtimeProblem) is { Version: not null } runtime &&
            AgentInjection.Refusal(targetPid, runtime, runtimeProblem, AgentDetection.AgentRuntime) is { } refusal)
        {
            await log.WriteLineAsync(refusal).ConfigureAwait(false);
        }

        var child = new LaunchedChild(process, connector, socketPath, targetPid, name, pump);
        child.ForwardSignals();
        return child;
    }

    /// <summary>Lets the suspended runtime run Main (call once the session is running).</summary>
    public void Resume() => connector.Instance.ResumeRuntime();

    /// <summary>Asks the program to stop (SIGTERM), waits up to <paramref name="grace"/>, then kills it; returns its exit code.</summary>
    public async Task<int> StopAsync(TimeSpan grace)
    {
        if (!process.HasExited)
        {
            SendToTarget(PosixSignals.SigTerm);
            using var wait = new CancellationTokenSource(grace);
            try
            {
                await process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                KillTree(process);
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }

        await stdoutPump.ConfigureAwait(false);
        return process.ExitCode;
    }

    private void ForwardSignals()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // Ctrl+C reaches the whole console group there.
        }

        foreach (var (signal, number) in new[] { (PosixSignal.SIGINT, PosixSignals.SigInt), (PosixSignal.SIGTERM, PosixSignals.SigTerm) })
        {
            _signals.Add(PosixSignalRegistration.Create(signal, context =>
            {
                // The child decides how to stop; we keep observing until it exits.
                context.Cancel = true;
                SendToTarget(number);
            }));
        }
    }

    private void SendToTarget(int signal)
    {
        if (process.HasExited)
        {
            return;
        }

        if (TargetPid != process.Id)
        {
            PosixSignals.Send(TargetPid, signal);
        }

        PosixSignals.Send(process.Id, signal);
    }

    private static void KillTree(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (Exception ex) when (ex is InvalidOperationException or Win32Exception or NotSupportedException)
        {
            // Already gone.
        }
    }

    private static async Task PumpAsync(StreamReader from, TextWriter to)
    {
        var buffer = new char[4096];
        int read;
        while ((read = await from.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            await to.WriteAsync(buffer.AsMemory(0, read)).ConfigureAwait(false);
            await to.FlushAsync().ConfigureAwait(false);
        }
    }

    /// <summary>dotnet run: the app is the process whose environment names our socket (Linux /proc; same user, so readable).</summary>
    private static int? FindProcessWithVariable(string socketPath)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        var needle = ChildCommand.DiagnosticPortsVariable + "=" + socketPath;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            try
            {
                var environ = File.ReadAllText(Path.Combine(dir, "environ"));
                if (environ.Split('\0').Any(v => v.StartsWith(needle, StringComparison.Ordinal)))
                {
                    return pid;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
            }
        }

        return null;
    }

    private static async Task DisposeQuietly(Task<DiagnosticsClientConnector> connecting)
    {
        try
        {
            var connector = await connecting.ConfigureAwait(false);
            if (connector is not null)
            {
                await connector.DisposeAsync().ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or TimeoutException or ServerNotAvailableException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var registration in _signals)
        {
            registration.Dispose();
        }

        if (!process.HasExited)
        {
            await StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }

        await connector.DisposeAsync().ConfigureAwait(false);
        try
        {
            File.Delete(socketPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        process.Dispose();
    }
}
