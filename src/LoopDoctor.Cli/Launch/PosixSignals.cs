using System.Runtime.InteropServices;

namespace LoopDoctor.Cli.Launch;

/// <summary>kill(2): Process.Kill only sends SIGKILL, and run/check forward Ctrl+C and SIGTERM as themselves.</summary>
internal static class PosixSignals
{
    public const int SigInt = 2;
    public const int SigKill = 9;
    public const int SigTerm = 15;

    /// <summary>Sends <paramref name="signal"/> to <paramref name="pid"/>; false when it is gone or not ours, or off Unix.</summary>
    public static bool Send(int pid, int signal) => !OperatingSystem.IsWindows() && pid > 0 && Kill(pid, signal) == 0;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Kill(int pid, int signal);
}
