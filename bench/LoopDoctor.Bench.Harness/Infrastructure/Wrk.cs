using System.Globalization;
using System.Text.RegularExpressions;

namespace LoopDoctor.Bench.Infrastructure;

/// <summary>One closed-loop saturation run of wrk (Debian package <c>wrk</c>) against a URL.</summary>
internal static partial class Wrk
{
    /// <summary>
    /// Connections: /healthy awaits a 20 ms dependency, so throughput is capped at connections / 20 ms. 128 connections
    /// (≤ 6,400 rps) left the server at ~0.35 cores, latency-bound; 512 (≤ 25,600 rps) make it CPU-bound: server ~0.85
    /// cores + wrk ~1 core = both cores (measured with /proc on the 2-core machine).
    /// </summary>
    public const int Connections = 512;

    /// <summary>Smoke mode only proves the pipeline: 8 connections (≤ 400 rps) leave the CPU to tests running alongside.</summary>
    public const int SmokeConnections = 8;

    public static int ConnectionsFor(BenchContext context) => context.Smoke ? SmokeConnections : Connections;

    public static async Task<WrkResult> RunAsync(BenchContext context, string url, TimeSpan duration, CancellationToken cancellationToken)
    {
        var wrk = context.Wrk ?? throw new BenchException("wrk is not installed (run.sh installs it with apt-get)");
        // One wrk thread: on 2 cores every thread wrk adds is taken from the server under test.
        using var process = ChildProcess.Start(wrk, ["-t1", $"-c{ConnectionsFor(context)}", $"-d{Math.Max(1, (int)duration.TotalSeconds)}s", "--latency", "--timeout", "10s", url]);
        if (!await process.WaitForExitAsync(duration + TimeSpan.FromSeconds(30)).ConfigureAwait(false))
        {
            throw new BenchException($"wrk did not finish: {process.Tail(10)}");
        }

        var output = process.StandardOutput;
        var rps = RequestsPerSecond().Match(output);
        var p99 = Percentile99().Match(output);
        if (process.ExitCode != 0 || !rps.Success || !p99.Success)
        {
            throw new BenchException($"wrk failed (exit {process.ExitCode}):\n{process.Tail(20)}");
        }

        var errors = Non2xx().Match(output);
        var socket = SocketErrors().Match(output);
        return new WrkResult(
            double.Parse(rps.Groups[1].Value, CultureInfo.InvariantCulture),
            ToMilliseconds(p99.Groups[1].Value, p99.Groups[2].Value),
            errors.Success ? long.Parse(errors.Groups[1].Value, CultureInfo.InvariantCulture) : 0,
            socket.Success ? socket.Value.Trim() : null);
    }

    private static double ToMilliseconds(string value, string unit)
    {
        double v = double.Parse(value, CultureInfo.InvariantCulture);
        return unit switch
        {
            "us" => v / 1000,
            "ms" => v,
            "s" => v * 1000,
            "m" => v * 60_000,
            _ => throw new BenchException($"wrk latency unit '{unit}'"),
        };
    }

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"^\s*99%\s+([\d.]+)(us|ms|s|m)\s*$", RegexOptions.Multiline)]
    private static partial Regex Percentile99();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+(\d+)")]
    private static partial Regex Non2xx();

    [GeneratedRegex(@"Socket errors:[^\n]*")]
    private static partial Regex SocketErrors();
}

internal readonly record struct WrkResult(double RequestsPerSecond, double P99Milliseconds, long Non2xx, string? SocketErrors);
