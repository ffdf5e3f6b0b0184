using System.Net.Http.Json;
using System.Text.RegularExpressions;
using LoopDoctor.Testing;

namespace BlockingApp.Tests.Infrastructure;

/// <summary>A running BlockingApp server (a real process on an ephemeral loopback port) and an HTTP client for it.</summary>
public sealed partial class BlockingAppProcess : IAsyncDisposable
{
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private BlockingAppProcess(TestProcess process, Uri baseAddress, int reportedPid)
    {
        Process = process;
        BaseAddress = baseAddress;
        ReportedPid = reportedPid;
        Http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    public TestProcess Process { get; }
    public Uri BaseAddress { get; }

    /// <summary>The pid the ready line printed.</summary>
    public int ReportedPid { get; }

    public HttpClient Http { get; }

    /// <summary>Starts <c>dotnet BlockingApp.dll --urls http://127.0.0.1:0 {arguments}</c> and waits for its ready line.</summary>
    public static async Task<BlockingAppProcess> StartAsync(params string[] arguments)
    {
        var process = TestProcess.StartDotnet(RepoPaths.BlockingAppDll, ["--urls", "http://127.0.0.1:0", .. arguments]);
        try
        {
            var ready = await process.WaitForLineAsync(ReadyLine(), StartTimeout);
            return new BlockingAppProcess(process, new Uri(ready.Groups["url"].Value + "/"), int.Parse(ready.Groups["pid"].Value));
        }
        catch
        {
            process.Dispose();
            throw;
        }
    }

    /// <summary><c>ready url=http://127.0.0.1:41234 pid=1234</c>, exactly.</summary>
    [GeneratedRegex(@"^ready url=(?<url>http://127\.0\.0\.1:(?<port>[1-9][0-9]{0,4})) pid=(?<pid>[1-9][0-9]*)$")]
    public static partial Regex ReadyLine();

    /// <summary>GET <c>/gc</c>: a full collection with finalizers, then the app's task-exception counts.</summary>
    public async Task<GcReport> CollectGarbageAsync() =>
        await Http.GetFromJsonAsync<GcReport>("gc") ?? throw new InvalidOperationException("/gc answered null");

    /// <summary>GET <c>/metrics</c>, parsed.</summary>
    public async Task<PrometheusScrape> ScrapeMetricsAsync()
    {
        using var response = await Http.GetAsync("metrics");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"/metrics answered {(int)response.StatusCode}: {text}");
        return PrometheusScrape.Parse(text);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Process.DisposeAsync();
    }
}

public sealed record GcReport(long UnobservedTaskExceptions, long ObservedBackgroundFailures, int PendingBackgroundTasks);
