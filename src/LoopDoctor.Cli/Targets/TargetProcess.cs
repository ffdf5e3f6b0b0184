using System.Diagnostics;

namespace LoopDoctor.Cli.Targets;

/// <summary>A .NET process that exposes a diagnostics port.</summary>
internal sealed record TargetProcess(int ProcessId, string Name, string CommandLine, bool? AgentLoaded)
{
    /// <summary>
    /// .NET processes publishing a diagnostics port, skipping the stale <c>dotnet-diagnostic-*</c> sockets that dead
    /// processes leave in the temp directory.
    /// </summary>
    public static IReadOnlyList<TargetProcess> List()
    {
        var result = new List<TargetProcess>();
        foreach (var pid in DiagnosticPorts.PublishedProcessIds())
        {
            if (pid == Environment.ProcessId || !IsAlive(pid))
            {
                continue;
            }

            result.Add(Describe(pid));
        }

        return result;
    }

    public static TargetProcess Describe(int pid)
    {
        var commandLine = ReadCommandLine(pid);
        return new TargetProcess(pid, NameOf(pid, commandLine), string.Join(' ', commandLine), AgentDetection.IsAgentLoaded(pid));
    }

    /// <summary>Resolves --process-id or --name to one live .NET process, or throws a one-line error.</summary>
    public static TargetProcess Resolve(int? processId, string? name)
    {
        if (processId is { } pid)
        {
            if (pid <= 0 || !IsAlive(pid))
            {
                throw new LoopDoctorException(ExitCode.TargetNotFound, $"No process with id {pid} is running.");
            }

            if (!DiagnosticPorts.IsPublished(pid))
            {
                throw new LoopDoctorException(ExitCode.TargetNotFound,
                    $"Unable to connect to process {pid}: it is not a .NET process, or its diagnostics port is disabled (DOTNET_EnableDiagnostics=0) or in another temp directory.");
            }

            return Describe(pid);
        }

        var matches = List().Where(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)).ToList();
        return matches.Count switch
        {
            0 => throw new LoopDoctorException(ExitCode.TargetNotFound, $"No .NET process named '{name}' was found (see 'loopdoctor ps')."),
            1 => matches[0],
            _ => throw new LoopDoctorException(ExitCode.UsageError,
                $"{matches.Count} .NET processes are named '{name}' (pids {string.Join(", ", matches.Select(m => m.ProcessId))}); use --process-id."),
        };
    }

    public static bool IsAlive(int pid)
    {
        if (OperatingSystem.IsLinux())
        {
            // Cheaper than Process.GetProcessById and immune to its access checks.
            return Directory.Exists($"/proc/{pid}") && !IsZombie(pid);
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    private static bool IsZombie(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var close = stat.LastIndexOf(')');
            return close > 0 && close + 2 < stat.Length && stat[close + 2] is 'Z' or 'X';
        }
        catch (IOException)
        {
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static string[] ReadCommandLine(int pid)
    {
        try
        {
            if (OperatingSystem.IsLinux())
            {
                return File.ReadAllText($"/proc/{pid}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);
            }

            using var process = Process.GetProcessById(pid);
            return [process.MainModule?.FileName ?? process.ProcessName];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return [];
        }
    }

    /// <summary>The app's name: the entry assembly for <c>dotnet app.dll</c>, else the executable's name.</summary>
    private static string NameOf(int pid, string[] commandLine)
    {
        if (commandLine.Length > 0)
        {
            var exe = Path.GetFileName(commandLine[0]);
            if (exe.EndsWith(".exe", StringComparison.OrdinalIgnoreCase))
            {
                exe = exe[..^4];
            }

            if (exe == "dotnet")
            {
                var dll = commandLine.Skip(1).FirstOrDefault(a => a.EndsWith(".dll", StringComparison.OrdinalIgnoreCase));
                if (dll is not null)
                {
                    return Path.GetFileNameWithoutExtension(dll);
                }
            }

            return exe;
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            return process.ProcessName;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            return "?";
        }
    }
}
