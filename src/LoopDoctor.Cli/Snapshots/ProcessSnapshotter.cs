using System.Diagnostics;
using Microsoft.Diagnostics.NETCore.Client;

namespace LoopDoctor.Cli.Snapshots;

/// <summary>
/// Takes a snapshot of a running process: a heap dump written by the target's runtime (<c>DiagnosticsClient.WriteDump</c>,
/// which pauses the target while it writes), read with ClrMD, and deleted afterwards unless kept. The dump goes only into
/// a new private folder (mode 0700) under the temp directory: it holds whatever the process holds (tokens, personal data).
/// </summary>
internal static class ProcessSnapshotter
{
    /// <returns>The snapshot, or null with the reason in words (the report says it; a snapshot never fails a diagnosis).</returns>
    public static async Task<(ProcessSnapshot? Snapshot, string? Failure)> TakeAsync(int processId, bool keepDump, CancellationToken cancellationToken)
    {
        DirectoryInfo folder;
        try
        {
            folder = Directory.CreateTempSubdirectory("loopdoctor-dump-");
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(folder.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (null, $"no private folder for the dump could be created ({e.Message})");
        }

        var path = Path.Combine(folder.FullName, $"loopdoctor-{processId}.dmp");
        try
        {
            // Thread names while the target still runs: the dump does not carry them.
            var names = ThreadNames(processId);
            var watch = Stopwatch.StartNew();
            try
            {
                await new DiagnosticsClient(processId).WriteDumpAsync(DumpType.WithHeap, path, logDumpGeneration: false, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is ServerErrorException or ServerNotAvailableException or UnsupportedCommandException or IOException or UnauthorizedAccessException or TimeoutException)
            {
                return (null, $"the target did not write a dump ({e.Message.Split('\n')[0].Trim()}); loopdoctor must run as the target's user");
            }

            var paused = watch.Elapsed;
            var (threads, locks) = await Task.Run(() => DumpReader.Read(path, tid => names.GetValueOrDefault(tid)), cancellationToken).ConfigureAwait(false);
            return (new ProcessSnapshot(threads, locks, paused, new FileInfo(path).Length, keepDump ? path : null), null);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or NotSupportedException or Microsoft.Diagnostics.Runtime.ClrDiagnosticsException)
        {
            return (null, $"the dump could not be read ({e.Message.Split('\n')[0].Trim()})");
        }
        finally
        {
            if (!keepDump)
            {
                try
                {
                    folder.Delete(recursive: true);
                }
                catch (IOException)
                {
                }
            }
        }
    }

    /// <summary>OS thread names (Linux: /proc/PID/task/TID/comm, e.g. ".NET TP Worker"); empty elsewhere.</summary>
    private static Dictionary<int, string> ThreadNames(int processId)
    {
        var names = new Dictionary<int, string>();
        var tasks = $"/proc/{processId}/task";
        if (!Directory.Exists(tasks))
        {
            return names;
        }

        foreach (var dir in Directory.EnumerateDirectories(tasks))
        {
            try
            {
                if (int.TryParse(Path.GetFileName(dir), out var tid))
                {
                    names[tid] = File.ReadAllText(Path.Combine(dir, "comm")).Trim();
                }
            }
            catch (IOException)
            {
            }
        }

        return names;
    }
}
