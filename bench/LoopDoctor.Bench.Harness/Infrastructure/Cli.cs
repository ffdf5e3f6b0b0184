using System.Text.RegularExpressions;

namespace LoopDoctor.Bench.Infrastructure;

/// <summary>Starting <c>loopdoctor</c> (src/LoopDoctor.Cli) and reading its live output.</summary>
internal static partial class Cli
{
    /// <summary>
    /// <c>loopdoctor monitor -p PID --format json</c>; returns once the first live line arrived (attached and live).
    /// <paramref name="cliDll"/>: another build of loopdoctor (an A/B against an earlier commit); default the repository's.
    /// </summary>
    public static async Task<ChildProcess> StartMonitorAsync(BenchContext context, int pid, TimeSpan refresh, CancellationToken cancellationToken,
        IDictionary<string, string>? environment = null, IEnumerable<string>? extraArguments = null, string? cliDll = null)
    {
        var monitor = ChildProcess.StartDotnet(cliDll ?? context.CliDll,
            ["monitor", "--process-id", pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "--refresh", $"{(int)refresh.TotalMilliseconds}ms", "--format", "json", .. extraArguments ?? []], environment);
        try
        {
            await monitor.WaitForLineAsync(IsLiveLine, TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
            return monitor;
        }
        catch
        {
            monitor.Dispose();
            throw;
        }
    }

    /// <summary>A live-view line: the plain line (<c>t=1.0s healthy threads=…</c>) or a JSON object with a verdict.</summary>
    public static bool IsLiveLine(string line) => LiveLine().IsMatch(line) || line.Contains("\"verdict\"", StringComparison.Ordinal);

    /// <summary>
    /// A live line with a starvation or blocking verdict: verdict <c>starving</c>, or a thread-pool-starvation /
    /// blocking-wait finding. Not <c>degraded</c> from high-lag alone: a warming-up app shows that without any blocking.
    /// </summary>
    public static bool IsStarvationVerdict(string line) => IsLiveLine(line) && Verdict().IsMatch(line);

    [GeneratedRegex(@"^t=[\d.]+s ")]
    private static partial Regex LiveLine();

    [GeneratedRegex(@"\bstarving\b|thread-pool-starvation|blocking-wait", RegexOptions.IgnoreCase)]
    private static partial Regex Verdict();
}
