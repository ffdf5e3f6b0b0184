using System.Runtime.InteropServices;

namespace LoopDoctor.Bench.Infrastructure;

/// <summary>
/// The rows stop monitor and dotnet-trace with SIGINT (their graceful Ctrl+C path). A process started in the background
/// by a shell without job control inherits SIGINT as *ignored*, the .NET runtime keeps it ignored, and so would every
/// child we start: dotnet-trace then never stops (seen: a P6 recording ran on after Ctrl+C until killed, its rundown lost).
/// So, on Linux, when the harness finds SIGINT ignored it restores the default disposition for itself and its children.
/// </summary>
internal static class InterruptSignal
{
    private const int SigInt = 2;
    private static readonly IntPtr Default = IntPtr.Zero;
    private static readonly IntPtr Ignore = new(1);

    /// <summary>True when SIGINT was ignored and is now back to its default.</summary>
    public static bool RestoreIfIgnored()
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        try
        {
            // signal() returns the previous disposition: put back anything that was not "ignore" (the runtime's handler).
            var previous = signal(SigInt, Default);
            if (previous == Ignore)
            {
                return true;
            }

            signal(SigInt, previous);
            return false;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [DllImport("libc")]
    private static extern IntPtr signal(int signum, IntPtr handler);
}
