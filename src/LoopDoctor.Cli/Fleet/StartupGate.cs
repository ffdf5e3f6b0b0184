using System.Diagnostics;

namespace LoopDoctor.Cli.Fleet;

/// <summary>
/// Holds a fleet attach back until the process has finished starting. A runtime that connects with
/// <c>DOTNET_DiagnosticPorts=PATH,nosuspend</c> does so before Main, and a session that enables managed providers
/// (the Metrics provider, the DiagnosticSource bridge) while the app's main thread is running an EventSource's static
/// constructor deadlocks the app: the enable callback holds <c>EventListenersLock</c> and waits for the type's init lock,
/// the constructor holds that and waits for the lock (dotnet/runtime#119014, #105682, #118014; seen here on 10.0.12 as a
/// BlockingApp stuck in <c>WebApplication.CreateBuilder</c>, in 5 of 54 starts, 9 at a time under one monitor). Started means
/// <see cref="CpuTime"/> of CPU spent (startup is CPU-bound, so this holds under load, where wall time would not; BlockingApp
/// is ready after ~0.6 s), or <see cref="MaxAge"/> alive, or <see cref="IdleAge"/> alive and idle (under 5% of a core
/// over the last poll: a small app that started with little work, or one parked in waits).
/// </summary>
internal static class StartupGate
{
    public static readonly TimeSpan CpuTime = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan IdleAge = TimeSpan.FromSeconds(2);
    private const double IdleShare = 0.05;
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Whether a process that has spent <paramref name="cpu"/>, lived <paramref name="age"/> and used
    /// <paramref name="recentShare"/> of one core since the last look (null: not known yet) is past its startup.
    /// </summary>
    public static bool IsStarted(TimeSpan cpu, TimeSpan age, double? recentShare = null) =>
        cpu >= CpuTime || age >= MaxAge || (age >= IdleAge && recentShare < IdleShare);

    /// <summary>
    /// Completes once <paramref name="processId"/> is started (at once for a process already running a while), or has
    /// exited (the attach then says so). <paramref name="waiting"/> runs once if it has to wait.
    /// </summary>
    public static async Task WaitAsync(int processId, TimeProvider time, Action waiting, CancellationToken cancellationToken)
    {
        var told = false;
        (TimeSpan Cpu, TimeSpan Age)? last = null;
        while (Read(processId, time) is { } state)
        {
            double? share = last is { } before && state.Age > before.Age ? (state.Cpu - before.Cpu) / (state.Age - before.Age) : null;
            if (IsStarted(state.Cpu, state.Age, share))
            {
                return;
            }

            last = state;
            if (!told)
            {
                told = true;
                waiting();
            }

            await Task.Delay(Poll, time, cancellationToken).ConfigureAwait(false);
        }
    }

    private static (TimeSpan Cpu, TimeSpan Age)? Read(int processId, TimeProvider time)
    {
        try
        {
            using var process = Process.GetProcessById(processId);
            return (process.TotalProcessorTime, time.GetUtcNow() - process.StartTime.ToUniversalTime());
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return null; // gone
        }
    }
}
