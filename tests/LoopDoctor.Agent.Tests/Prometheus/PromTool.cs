using System.Diagnostics;

namespace LoopDoctor.Agent.Tests.Prometheus;

/// <summary>Runs the real <c>promtool check metrics</c> (Debian package <c>prometheus</c>; <c>./test.sh</c> installs it).</summary>
internal static class PromTool
{
    public const string Path = "/usr/bin/promtool";

    /// <summary>Pipes <paramref name="exposition"/> into <c>promtool check metrics</c>; returns its exit code and output lines.</summary>
    public static async Task<(int ExitCode, string[] Problems)> CheckMetricsAsync(string exposition)
    {
        if (!File.Exists(Path))
        {
            Assert.Fail($"promtool is missing at {Path}: install the Debian package 'prometheus' (./test.sh does it) — this test does not skip.");
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

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            Assert.Fail("promtool check metrics did not finish within 30 s");
        }

        var output = (await stdout) + (await stderr);
        var problems = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return (process.ExitCode, problems);
    }
}
