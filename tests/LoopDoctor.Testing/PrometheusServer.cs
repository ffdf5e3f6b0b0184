using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace LoopDoctor.Testing;

/// <summary>A scrape job for <see cref="PrometheusServer"/>: its <c>job</c> label and the target's metrics URL.</summary>
public sealed record PrometheusScrapeJob(string Name, Uri MetricsUrl)
{
    /// <summary>The <c>instance</c> label Prometheus gives the target: <c>host:port</c>.</summary>
    public string Instance => $"{MetricsUrl.Host}:{MetricsUrl.Port.ToString(CultureInfo.InvariantCulture)}";
}

/// <summary>One series of an instant-vector query result: its labels and value.</summary>
public sealed record PrometheusVectorSample(IReadOnlyDictionary<string, string> Labels, double Value)
{
    public string Label(string name) => Labels.TryGetValue(name, out var value) ? value : "";

    public override string ToString() =>
        "{" + string.Join(",", Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}=\"{l.Value}\"")) + "} " +
        Value.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>
/// The real Prometheus server (<c>/usr/bin/prometheus</c>, Debian package <c>prometheus</c>; <c>./test.sh</c> installs it)
/// on 127.0.0.1 with a free port, a temporary TSDB and a generated config scraping the given jobs every second.
/// <see cref="DisposeAsync"/> kills it (by its pid) and deletes the temporary directory.
/// Query API: https://prometheus.io/docs/prometheus/latest/querying/api/#instant-queries
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    public const string ServerPath = "/usr/bin/prometheus";

    /// <summary>Prometheus logs this (logfmt, stderr) once the TSDB is open and the web handler serves.</summary>
    private const string ReadyLogLine = "Server is ready to receive web requests";

    private readonly TestProcess _process;
    private readonly string _directory;
    private readonly HttpClient _http;

    private PrometheusServer(TestProcess process, string directory, Uri baseAddress)
    {
        _process = process;
        _directory = directory;
        BaseAddress = baseAddress;
        _http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(10) };
    }

    /// <summary>e.g. <c>http://127.0.0.1:40123/</c>.</summary>
    public Uri BaseAddress { get; }

    public TestProcess Process => _process;

    /// <summary>The YAML config Prometheus runs with: every job scraped each second (timeout 1 s), plain static targets.</summary>
    public static string ScrapeConfig(IEnumerable<PrometheusScrapeJob> jobs)
    {
        var yaml = new StringBuilder();
        yaml.AppendLine("global:");
        yaml.AppendLine("  scrape_interval: 1s");
        yaml.AppendLine("  scrape_timeout: 1s");
        yaml.AppendLine("  evaluation_interval: 1s");
        yaml.AppendLine("scrape_configs:");
        foreach (var job in jobs)
        {
            yaml.AppendLine($"  - job_name: '{job.Name}'");
            yaml.AppendLine($"    scheme: {job.MetricsUrl.Scheme}");
            yaml.AppendLine($"    metrics_path: '{job.MetricsUrl.AbsolutePath}'");
            yaml.AppendLine("    static_configs:");
            yaml.AppendLine($"      - targets: ['{job.Instance}']");
        }

        return yaml.ToString();
    }

    /// <summary>
    /// Starts Prometheus scraping <paramref name="jobs"/> and waits until <c>/-/ready</c> answers 200. A port taken
    /// between picking and binding is retried with another one.
    /// </summary>
    public static async Task<PrometheusServer> StartAsync(IReadOnlyCollection<PrometheusScrapeJob> jobs, TimeSpan timeout)
    {
        if (!File.Exists(ServerPath))
        {
            throw new FileNotFoundException($"Prometheus is missing at {ServerPath}: install the Debian package 'prometheus' (./test.sh does it).", ServerPath);
        }

        var directory = Directory.CreateTempSubdirectory("loopdoctor-prometheus-").FullName;
        try
        {
            var configPath = Path.Combine(directory, "prometheus.yml");
            await File.WriteAllTextAsync(configPath, ScrapeConfig(jobs));
            for (var attempt = 1; ; attempt++)
            {
                var port = FreePort.Next();
                var process = TestProcess.Start(ServerPath,
                [
                    "--config.file=" + configPath,
                    "--storage.tsdb.path=" + Path.Combine(directory, "data"),
                    "--web.listen-address=127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture),
                    "--log.level=info",
                ]);
                var server = new PrometheusServer(process, directory, new Uri($"http://127.0.0.1:{port}/"));
                try
                {
                    await process.WaitForLineAsync(ReadyLogLine, timeout, OutputStream.Stderr);
                    await server.WaitUntilReadyAsync(timeout);
                    return server;
                }
                catch (TestProcessException) when (attempt < 3 && process.StderrLines.Any(l => l.Contains("address already in use", StringComparison.Ordinal)))
                {
                    server.Stop();
                }
                catch
                {
                    server.Stop();
                    throw;
                }
            }
        }
        catch
        {
            DeleteDirectory(directory);
            throw;
        }
    }

    /// <summary>Runs an instant query; throws <see cref="InvalidOperationException"/> with Prometheus's error when it fails.</summary>
    public async Task<IReadOnlyList<PrometheusVectorSample>> QueryAsync(string promql)
    {
        using var response = await _http.GetAsync("api/v1/query?query=" + Uri.EscapeDataString(promql));
        var body = await response.Content.ReadAsStringAsync();
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        if (root.GetProperty("status").GetString() != "success")
        {
            throw new InvalidOperationException($"Query {promql} failed ({(int)response.StatusCode}): {body}");
        }

        var data = root.GetProperty("data");
        var resultType = data.GetProperty("resultType").GetString();
        if (resultType != "vector")
        {
            throw new InvalidOperationException($"Query {promql} gave a {resultType}, not an instant vector: {body}");
        }

        var samples = new List<PrometheusVectorSample>();
        foreach (var series in data.GetProperty("result").EnumerateArray())
        {
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var label in series.GetProperty("metric").EnumerateObject())
            {
                labels[label.Name] = label.Value.GetString() ?? "";
            }

            // "value": [ <unix time>, "<value as string>" ]; the value may be NaN or +Inf.
            var text = series.GetProperty("value")[1].GetString() ?? "NaN";
            var value = text switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                "NaN" => double.NaN,
                _ => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
            };
            samples.Add(new PrometheusVectorSample(labels, value));
        }

        return samples;
    }

    /// <summary>
    /// Re-runs <paramref name="promql"/> every <paramref name="every"/> (Prometheus scrapes each second) until
    /// <paramref name="done"/> accepts the result or <paramref name="deadline"/> passes; returns the last result either way,
    /// for the test to assert on.
    /// </summary>
    public async Task<IReadOnlyList<PrometheusVectorSample>> QueryUntilAsync(string promql,
        Func<IReadOnlyList<PrometheusVectorSample>, bool> done, TimeSpan deadline, TimeSpan? every = null)
    {
        var until = DateTime.UtcNow + deadline;
        while (true)
        {
            var result = await QueryAsync(promql);
            if (done(result) || DateTime.UtcNow >= until || _process.HasExited)
            {
                return result;
            }

            await Task.Delay(every ?? TimeSpan.FromMilliseconds(500));
        }
    }

    /// <summary>Prometheus's own log (stderr), for failure messages.</summary>
    public string DescribeOutput() => _process.DescribeOutput();

    public ValueTask DisposeAsync()
    {
        Stop();
        DeleteDirectory(_directory);
        return ValueTask.CompletedTask;
    }

    private async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var response = await _http.GetAsync("-/ready");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }

            if (_process.HasExited || DateTime.UtcNow >= until)
            {
                throw new TestProcessException($"Prometheus at {BaseAddress} did not become ready.{Environment.NewLine}{_process.DescribeOutput()}");
            }

            await Task.Delay(100);
        }
    }

    private void Stop()
    {
        _process.Dispose();
        _http.Dispose();
    }

    private static void DeleteDirectory(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp directory left behind is harmless.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
