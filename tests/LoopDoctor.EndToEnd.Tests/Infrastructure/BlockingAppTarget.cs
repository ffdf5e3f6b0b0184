using System.Text.RegularExpressions;
using LoopDoctor.Testing;

namespace LoopDoctor.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A running BlockingApp (the built sample, a real process on an ephemeral loopback port), started with
/// <c>--urls http://127.0.0.1:0</c> and the given arguments; ready once it printed its ready line.
/// </summary>
public sealed partial class BlockingAppTarget : IAsyncDisposable
{
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(45);

    private BlockingAppTarget(TestProcess process, Uri baseAddress, Uri? standaloneMetricsUrl)
    {
        Process = process;
        BaseAddress = baseAddress;
        StandaloneMetricsUrl = standaloneMetricsUrl;
    }

    public TestProcess Process { get; }

    public int Pid => Process.Pid;

    /// <summary>Kestrel's address, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The embedded agent's <c>/metrics</c> served by Kestrel (the official exporter: app.MapPrometheusScrapingEndpoint).</summary>
    public Uri KestrelMetricsUrl => new(BaseAddress, "metrics");

    /// <summary>The agent's own endpoint (<c>--metrics-url</c>, its own thread: answers while the pool is starved); null without it.</summary>
    public Uri? StandaloneMetricsUrl { get; }

    public static Task<BlockingAppTarget> StartAsync(params string[] arguments) => StartAsync(arguments, options: null);

    /// <param name="options">The process's environment, e.g. <c>DOTNET_DiagnosticPorts</c> for a fleet.</param>
    public static async Task<BlockingAppTarget> StartAsync(string[] arguments, TestProcessOptions? options)
    {
        var process = TestProcess.StartDotnet(RepoPaths.BlockingAppDll, ["--urls", "http://127.0.0.1:0", .. arguments], options);
        try
        {
            var ready = await process.WaitForLineAsync(ReadyLine(), StartTimeout);
            Uri? metricsUrl = null;
            if (arguments.Contains("--metrics-url"))
            {
                // Printed just before the ready line.
                metricsUrl = new Uri((await process.WaitForLineAsync(MetricsLine(), TimeSpan.Zero)).Groups["url"].Value);
            }

            return new BlockingAppTarget(process, new Uri(ready.Groups["url"].Value + "/"), metricsUrl);
        }
        catch
        {
            process.Dispose();
            throw;
        }
    }

    /// <summary><c>ready url=http://127.0.0.1:41234 pid=1234</c> (samples/BlockingApp/README.md).</summary>
    [GeneratedRegex(@"^ready url=(?<url>http://127\.0\.0\.1:[1-9][0-9]{0,4}) pid=(?<pid>[1-9][0-9]*)$")]
    private static partial Regex ReadyLine();

    /// <summary><c>metrics url=http://127.0.0.1:40123/metrics</c>.</summary>
    [GeneratedRegex(@"^metrics url=(?<url>http://127\.0\.0\.1:[1-9][0-9]{0,4}/\S*)$")]
    private static partial Regex MetricsLine();

    public ValueTask DisposeAsync() => Process.DisposeAsync();
}
