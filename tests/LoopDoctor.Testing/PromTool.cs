using System.Diagnostics;

namespace LoopDoctor.Testing;

/// <summary>
/// The real <c>promtool check metrics</c> (Debian package <c>prometheus</c>; <c>./test.sh</c> installs it). The
/// tests do not skip when it is missing: they fail, naming the package.
/// </summary>
public static class PromTool
{
    public const string Path = "/usr/bin/promtool";

    /// <summary>Pipes <paramref name="exposition"/> into <c>promtool check metrics</c>; returns its exit code and output lines (problems).</summary>
    public static async Task<(int ExitCode, string[] Problems)> CheckMetricsAsync(string exposition, TimeSpan? timeout = null)
    {
        if (!File.Exists(Path))
        {
            throw new FileNotFoundException($"promtool is missing at {Path}: install the Debian package 'prometheus' (./test.sh does it).", Path);
        }

        var start = new ProcessStartInfo(Path, ["check", "metrics"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("promtool did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(exposition);
        process.StandardInput.Close();

        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw new TimeoutException("promtool check metrics did not finish in time.");
        }

        var output = (await stdout) + (await stderr);
        return (process.ExitCode, output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }
}
