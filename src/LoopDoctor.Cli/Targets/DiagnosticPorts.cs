using System.Globalization;
using System.Text.RegularExpressions;

namespace LoopDoctor.Cli.Targets;

/// <summary>
/// Finds the processes that publish a diagnostics port. On Unix each .NET process creates
/// <c>$TMPDIR/dotnet-diagnostic-{pid}-{disambiguation key}-socket</c>; the key is the process start time, so a socket
/// whose pid is dead or reused (key ≠ start time) is stale and skipped. We do not use
/// DiagnosticsClient.GetPublishedProcesses: it reads /proc/*/environ of every process and throws on kernel threads.
/// Format: https://github.com/dotnet/diagnostics/blob/main/documentation/design-docs/ipc-protocol.md
/// </summary>
internal static partial class DiagnosticPorts
{
    [GeneratedRegex(@"^dotnet-diagnostic-(\d+)-(\d+)-socket$")]
    private static partial Regex SocketName();

    public static IReadOnlyList<int> PublishedProcessIds()
    {
        if (OperatingSystem.IsWindows())
        {
            return Directory.GetFiles(@"\\.\pipe\")
                .Select(Path.GetFileName)
                .Select(n => n is not null && n.StartsWith("dotnet-diagnostic-", StringComparison.Ordinal) && int.TryParse(n["dotnet-diagnostic-".Length..], out var pid) ? pid : 0)
                .Where(pid => pid > 0 && TargetProcess.IsAlive(pid))
                .Distinct()
                .ToList();
        }

        var result = new HashSet<int>();
        string[] files;
        try
        {
            files = Directory.GetFiles(Path.GetTempPath(), "dotnet-diagnostic-*-socket");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }

        foreach (var file in files)
        {
            var match = SocketName().Match(Path.GetFileName(file));
            if (!match.Success || !int.TryParse(match.Groups[1].Value, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            if (!TargetProcess.IsAlive(pid))
            {
                continue;
            }

            if (OperatingSystem.IsLinux() && StartTime(pid) is { } start && ulong.TryParse(match.Groups[2].Value, CultureInfo.InvariantCulture, out var key) && key != start)
            {
                continue; // the pid was reused by a process started later
            }

            result.Add(pid);
        }

        return result.Order().ToList();
    }

    public static bool IsPublished(int pid) => PublishedProcessIds().Contains(pid);

    /// <summary>The Unix socket of <paramref name="pid"/>'s diagnostics server (the newest, if a reused pid left an old one); null when none.</summary>
    public static string? SocketPath(int pid)
    {
        try
        {
            return new DirectoryInfo(Path.GetTempPath()).GetFiles($"dotnet-diagnostic-{pid.ToString(CultureInfo.InvariantCulture)}-*-socket")
                .Where(f => SocketName().IsMatch(f.Name))
                .OrderByDescending(f => f.LastWriteTimeUtc)
                .Select(f => f.FullName)
                .FirstOrDefault();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Field 22 of /proc/PID/stat: start time in clock ticks since boot, the runtime's disambiguation key on Linux.</summary>
    private static ulong? StartTime(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // fields[0] is field 3 (state), so field 22 is fields[19].
            return fields.Length > 19 && ulong.TryParse(fields[19], CultureInfo.InvariantCulture, out var ticks) ? ticks : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
