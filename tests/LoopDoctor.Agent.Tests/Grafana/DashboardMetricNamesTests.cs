using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using LoopDoctor.Agent.Tests.AspNetCore;
using LoopDoctor.Agent.Tests.Prometheus;
using LoopDoctor.Agent.Tests.Support;
using LoopDoctor.Testing;
using Xunit.Abstractions;

using PromTool = LoopDoctor.Testing.PromTool;

namespace LoopDoctor.Agent.Tests.Grafana;

/// <summary>
/// docs/grafana/loopdoctor-dashboard.json against reality: every metric name in every query must be a series a running
/// agent actually exposes (live scrape after provoking each signal), the queries must parse as PromQL (promtool), and
/// the dashboard must import anywhere (a <c>${DS_PROMETHEUS}</c> input, <c>job</c>/<c>instance</c> filters everywhere).
/// </summary>
[Collection(AgentCollection.Name)]
public sealed partial class DashboardMetricNamesTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private static readonly HashSet<string> PromQlKeywords =
    [
        "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset", "atan2", "inf", "nan",
    ];

    // ---- Extraction (pure logic) ----------------------------------------------------------------------------------

    [GeneratedRegex(@"""(?:[^""\\]|\\.)*""|'(?:[^'\\]|\\.)*'")]
    private static partial Regex StringLiteral();

    [GeneratedRegex(@"\{[^{}]*\}")]
    private static partial Regex LabelMatchers();

    [GeneratedRegex(@"\[[^\[\]]*\]")]
    private static partial Regex RangeOrSubquery();

    [GeneratedRegex(@"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")]
    private static partial Regex GroupingLabels();

    // Atomic group: "histogram_quantile(" must not match as "histogram_quantil". Not after a digit, '.', '$' (numbers, variables).
    [GeneratedRegex(@"(?<![a-zA-Z0-9_:.$])(?>[a-zA-Z_:][a-zA-Z0-9_:]*)(?!\s*\()")]
    private static partial Regex Identifier();

    [GeneratedRegex(@"^\s*label_values\((?<args>.*)\)\s*$")]
    private static partial Regex LabelValuesQuery();

    /// <summary>The metric names a PromQL expression selects: no functions, keywords, label names, strings, durations or variables.</summary>
    internal static List<string> MetricNamesIn(string promQl)
    {
        var text = StringLiteral().Replace(promQl, " ");
        text = LabelMatchers().Replace(text, " ");
        text = RangeOrSubquery().Replace(text, " ");
        text = GroupingLabels().Replace(text, " ");
        return Identifier().Matches(text).Select(m => m.Value).Where(name => !PromQlKeywords.Contains(name.ToLowerInvariant())).Distinct().ToList();
    }

    /// <summary>Grafana's <c>label_values(selector, label)</c> variable query: the metric names of its selector (none for <c>label_values(label)</c>).</summary>
    internal static List<string> MetricNamesInVariableQuery(string query)
    {
        var match = LabelValuesQuery().Match(query);
        if (!match.Success)
        {
            return MetricNamesIn(query);
        }

        var args = match.Groups["args"].Value;
        var lastComma = args.LastIndexOf(',');
        return lastComma < 0 ? [] : MetricNamesIn(args[..lastComma]);
    }

    [Theory]
    [InlineData("histogram_quantile(0.99, sum by (le, instance) (rate(a_seconds_bucket{job=~\"$job\",x=\"sum(y)\"}[$__rate_interval])))", "a_seconds_bucket")]
    [InlineData("sum by (instance) (rate(a_sum{j=\"1\"}[5m])) / sum by (instance) (rate(a_count[5m]))", "a_sum,a_count")]
    [InlineData("max(up) or vector(0)", "up")]
    [InlineData("rate(x_total[1m] offset 5m) > bool 1e-3", "x_total")]
    [InlineData("a + on (instance) group_left (version) b", "a,b")]
    [InlineData("sum without (le) (c:recorded:rate5m)", "c:recorded:rate5m")]
    [InlineData("increase(x_total[$__rate_interval]) * 0.5", "x_total")]
    public void Metric_names_are_extracted_from_PromQL(string expr, string expected)
        => Assert.Equal(expected.Split(','), MetricNamesIn(expr));

    [Theory]
    [InlineData("label_values(m_count, job)", "m_count")]
    [InlineData("label_values(m_count{job=~\"$job\"}, instance)", "m_count")]
    [InlineData("label_values(job)", "")]
    public void Metric_names_are_extracted_from_variable_queries(string query, string expected)
        => Assert.Equal(expected.Length == 0 ? [] : expected.Split(','), MetricNamesInVariableQuery(query));

    // ---- The dashboard -------------------------------------------------------------------------------------------

    private static string DashboardPath()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "docs", "grafana", "loopdoctor-dashboard.json");
            if (File.Exists(candidate) && File.Exists(Path.Combine(directory.FullName, "LoopDoctor.sln")))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException("docs/grafana/loopdoctor-dashboard.json not found above " + AppContext.BaseDirectory);
    }

    private sealed record Query(string Where, string Text, bool IsVariable);

    private static List<Query> Queries(JsonElement dashboard)
    {
        var queries = new List<Query>();
        foreach (var panel in Panels(dashboard))
        {
            if (!panel.TryGetProperty("targets", out var targets))
            {
                continue;
            }

            foreach (var target in targets.EnumerateArray())
            {
                queries.Add(new Query($"panel '{panel.GetProperty("title").GetString()}' {target.GetProperty("refId").GetString()}",
                    target.GetProperty("expr").GetString()!, IsVariable: false));
            }
        }

        foreach (var variable in dashboard.GetProperty("templating").GetProperty("list").EnumerateArray())
        {
            if (variable.GetProperty("type").GetString() == "query")
            {
                queries.Add(new Query($"variable ${variable.GetProperty("name").GetString()}",
                    variable.GetProperty("query").GetProperty("query").GetString()!, IsVariable: true));
            }
        }

        return queries;
    }

    private static IEnumerable<JsonElement> Panels(JsonElement dashboard)
    {
        foreach (var panel in dashboard.GetProperty("panels").EnumerateArray())
        {
            yield return panel;
            if (panel.TryGetProperty("panels", out var nested))
            {
                foreach (var inner in nested.EnumerateArray())
                {
                    yield return inner;
                }
            }
        }
    }

    private static JsonDocument LoadDashboard() => JsonDocument.Parse(File.ReadAllText(DashboardPath()));

    [Fact]
    public void Dashboard_imports_with_a_Prometheus_input_and_filters_every_query_by_job_and_instance()
    {
        using var document = LoadDashboard();
        var dashboard = document.RootElement;

        var input = Assert.Single(dashboard.GetProperty("__inputs").EnumerateArray().ToList());
        Assert.Equal("DS_PROMETHEUS", input.GetProperty("name").GetString());
        Assert.Equal("prometheus", input.GetProperty("pluginId").GetString());
        Assert.False(dashboard.TryGetProperty("id", out var id) && id.ValueKind != JsonValueKind.Null, "an exported dashboard has id null");

        var variables = dashboard.GetProperty("templating").GetProperty("list").EnumerateArray().Select(v => v.GetProperty("name").GetString()).ToList();
        Assert.Equal(["job", "instance"], variables);

        var panels = Panels(dashboard).Where(p => p.GetProperty("type").GetString() != "row").ToList();
        Assert.True(panels.Count >= 12, $"{panels.Count} panels");
        var panelIds = Panels(dashboard).Select(p => p.GetProperty("id").GetInt32()).ToList();
        Assert.Equal(panelIds.Count, panelIds.Distinct().Count());
        foreach (var panel in panels)
        {
            var title = panel.GetProperty("title").GetString();
            Assert.True(panel.GetProperty("datasource").GetProperty("uid").GetString() == "${DS_PROMETHEUS}", $"panel '{title}' datasource");
            foreach (var target in panel.GetProperty("targets").EnumerateArray())
            {
                Assert.True(target.GetProperty("datasource").GetProperty("uid").GetString() == "${DS_PROMETHEUS}", $"panel '{title}' target datasource");
            }
        }

        foreach (var query in Queries(dashboard).Where(q => !q.IsVariable))
        {
            // Every selector filters by both variables, or a multi-instance view would mix in other apps.
            var selectors = Regex.Matches(query.Text, @"(?<![a-zA-Z0-9_:])([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?(?!\s*\()")
                .Where(m => MetricNamesIn(query.Text).Contains(m.Groups[1].Value)).ToList();
            Assert.NotEmpty(selectors);
            foreach (var selector in selectors)
            {
                Assert.True(selector.Groups[2].Value.Contains("job=~\"$job\"") && selector.Groups[2].Value.Contains("instance=~\"$instance\""),
                    $"{query.Where}: {selector.Value} lacks the job/instance filter");
            }
        }
    }

    [Fact]
    public async Task Dashboard_queries_are_valid_PromQL_for_promtool()
    {
        using var document = LoadDashboard();
        var rules = new StringBuilder("groups:\n  - name: loopdoctor-dashboard\n    rules:\n");
        var queries = Queries(document.RootElement).Where(q => !q.IsVariable).ToList();
        for (var i = 0; i < queries.Count; i++)
        {
            // Grafana's variables, as Grafana substitutes them before the query reaches Prometheus.
            var expr = queries[i].Text.Replace("$__rate_interval", "1m").Replace("$job", ".+").Replace("$instance", ".+");
            rules.Append($"      - record: dashboard:query{i}\n        expr: '{expr.Replace("'", "''")}'\n");
        }

        var file = Path.Combine(Path.GetTempPath(), $"loopdoctor-dashboard-{Guid.NewGuid():N}.rules.yml");
        await File.WriteAllTextAsync(file, rules.ToString());
        try
        {
            Assert.True(File.Exists(PromTool.Path), $"promtool is missing at {PromTool.Path} (./test.sh installs it)");
            using var process = Process.Start(new ProcessStartInfo(PromTool.Path, ["check", "rules", file])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            })!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(Deadline);
            var text = await stdout + await stderr;
            Assert.True(process.ExitCode == 0, "promtool check rules:\n" + text);
            Assert.Contains($"SUCCESS: {queries.Count} rules found", text);
        }
        finally
        {
            File.Delete(file);
        }
    }

    public enum Endpoint
    {
        /// <summary>The agent's own <c>MetricsUrl</c> server.</summary>
        Standalone,

        /// <summary>The official exporter's <c>MapPrometheusScrapingEndpoint</c> on Kestrel, with <c>AddLoopDoctor</c>.</summary>
        Official,
    }

    [GeneratedRegex(@"(?<a>[a-zA-Z_:][a-zA-Z0-9_:]*)\{[^{}]*\}\s+or\s+(?<b>[a-zA-Z_:][a-zA-Z0-9_:]*)\{")]
    private static partial Regex OrAlternatives();

    /// <summary>
    /// Names a query accepts in place of each other (<c>a{...} or b{...}</c>): the runtime's gauges, which the agent's
    /// endpoint renames for promtool and the official exporter does not.
    /// </summary>
    internal static IEnumerable<(string A, string B)> AlternativesIn(string promQl)
        => OrAlternatives().Matches(promQl).Select(m => (m.Groups["a"].Value, m.Groups["b"].Value));

    [Theory]
    [InlineData(Endpoint.Standalone)]
    [InlineData(Endpoint.Official)]
    public async Task Every_metric_in_the_dashboard_is_exposed_by_a_running_agent_and_the_live_scrape_passes_promtool(Endpoint endpoint)
    {
        using var document = LoadDashboard();
        var queries = Queries(document.RootElement);
        var used = queries
            .SelectMany(q => (q.IsVariable ? MetricNamesInVariableQuery(q.Text) : MetricNamesIn(q.Text)).Select(name => (Name: name, q.Where)))
            .GroupBy(x => x.Name, x => x.Where)
            .ToDictionary(g => g.Key, g => g.ToList());
        Assert.True(used.Count >= 10, "metric names found: " + string.Join(", ", used.Keys));
        // Each name, with the names a query accepts instead of it: one of them must be exposed.
        var accepted = used.Keys.ToDictionary(name => name, name => new HashSet<string> { name });
        foreach (var (a, b) in queries.SelectMany(q => AlternativesIn(q.Text)))
        {
            accepted[a].Add(b);
            accepted[b].Add(a);
        }

        Assert.Null(LoopDoctorAgent.Current);
        LoopDoctorAgent? standalone = null;
        LocalWebApp? web = null;
        Uri url;
        if (endpoint == Endpoint.Standalone)
        {
            standalone = LoopDoctorAgent.Start(new LoopDoctorOptions
            {
                MetricsUrl = "http://127.0.0.1:0/metrics",
                ScrapeCacheDuration = TimeSpan.Zero,
            });
            url = standalone.MetricsEndpoint!;
        }
        else
        {
            web = await AspNetCoreIntegrationTests.StartWithOfficialEndpointAsync();
            url = new Uri(web.Address, "/metrics");
        }

        try
        {
            using var http = new HttpClient { Timeout = Deadline };

            // Families recorded only after an event: provoke each one, and wait until the scrape shows it.
            ProvokeLockContention();
            await ScrapeUntilAsync(http, url, "loopdoctor_lock_contentions_total", "loopdoctor_lock_contention_duration_seconds_bucket");

            // Pool threads blocked in Task.Wait until the pool has to add threads (cooperative blocking or starvation): an
            // injection, and once released, blocking waits on pool threads.
            var blocked = BlockEveryPoolThread();
            try
            {
                await ScrapeUntilAsync(http, url, "loopdoctor_thread_pool_thread_injections_total");
            }
            finally
            {
                await blocked.ReleaseAsync();
            }

            await ScrapeUntilAsync(http, url, "loopdoctor_thread_pool_blocking_waits_total", "loopdoctor_thread_pool_blocking_wait_duration_seconds_bucket");

            await ScrapeUntilAsync(http, url, [["loopdoctor_task_unobserved_exceptions_total"]], beforeEachScrape: async () =>
            {
                await FaultedTaskDroppedAsync();
                GC.Collect();
                GC.WaitForPendingFinalizers(); // the finalizer of an unobserved faulted task raises UnobservedTaskException
            });

            // The probes record continuously; every other series the dashboard uses must be there by now.
            var body = await ScrapeUntilAsync(http, url, accepted.Values.Select(a => a.ToArray()).ToArray(), beforeEachScrape: null);
            var scrape = PrometheusScrape.Parse(body);
            var sampleNames = scrape.Samples.Select(s => s.Name).ToHashSet();

            var problems = new List<string>();
            foreach (var (name, where) in used.OrderBy(u => u.Key, StringComparer.Ordinal))
            {
                var family = FamilyOf(name, scrape.Types);
                output.WriteLine($"{name} → {family ?? "NOT EXPOSED"} ({string.Join("; ", where)})");
                if (accepted[name].Any(other => other != name && sampleNames.Contains(other) && FamilyOf(other, scrape.Types) is not null))
                {
                    continue; // the query's alternative is there: the panel shows it
                }

                if (family is null)
                {
                    problems.Add($"{name} (used by {string.Join("; ", where)}) is not a series of any family in the scrape");
                }
                else if (!sampleNames.Contains(name))
                {
                    problems.Add($"{name} (used by {string.Join("; ", where)}) has no sample in the scrape");
                }
            }

            Assert.True(problems.Count == 0, string.Join("\n", problems));

            if (endpoint == Endpoint.Standalone)
            {
                // The same real output, everything provoked, System.Runtime included: promtool has nothing to say. (The official
                // exporter's runtime gauges end in _count, which promtool flags: that is why ours are renamed.)
                var (exitCode, lint) = await PromTool.CheckMetricsAsync(body);
                Assert.True(lint.Length == 0, "promtool reported:\n" + string.Join("\n", lint));
                Assert.Equal(0, exitCode);
            }
        }
        finally
        {
            standalone?.Dispose();
            if (web is not null)
            {
                await web.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// The family a sample name belongs to in text 0.0.4, or null: a gauge or counter (<c>x_total</c>) by its own
    /// name; <c>_bucket</c>/<c>_sum</c>/<c>_count</c> only when the name without the suffix is a histogram family,
    /// so a gauge that merely ends in <c>_count</c> or a histogram's bare base name does not pass.
    /// </summary>
    internal static string? FamilyOf(string sampleName, IReadOnlyDictionary<string, string> types)
    {
        if (types.TryGetValue(sampleName, out var type) && type is "gauge" or "counter")
        {
            return sampleName;
        }

        foreach (var suffix in new[] { "_bucket", "_sum", "_count" })
        {
            if (sampleName.EndsWith(suffix, StringComparison.Ordinal)
                && types.TryGetValue(sampleName[..^suffix.Length], out var baseType) && baseType == "histogram")
            {
                return sampleName[..^suffix.Length];
            }
        }

        return null;
    }

    [Fact]
    public void Histogram_series_resolve_only_with_their_suffixes()
    {
        var types = new Dictionary<string, string>
        {
            ["lag_seconds"] = "histogram",
            ["threads"] = "gauge",
            ["jobs_total"] = "counter",
            ["odd_count"] = "gauge",
        };
        Assert.Equal("lag_seconds", FamilyOf("lag_seconds_bucket", types));
        Assert.Equal("lag_seconds", FamilyOf("lag_seconds_count", types));
        Assert.Null(FamilyOf("lag_seconds", types)); // a histogram has no series of its bare name
        Assert.Null(FamilyOf("lag_seconds_total", types));
        Assert.Equal("threads", FamilyOf("threads", types));
        Assert.Null(FamilyOf("threads_count", types)); // not a histogram
        Assert.Equal("jobs_total", FamilyOf("jobs_total", types));
        Assert.Null(FamilyOf("jobs", types));
        Assert.Equal("odd_count", FamilyOf("odd_count", types));
    }

    private Task<string> ScrapeUntilAsync(HttpClient http, Uri url, params string[] sampleNames)
        => ScrapeUntilAsync(http, url, sampleNames.Select(n => new[] { n }).ToArray(), beforeEachScrape: null);

    /// <summary>
    /// Scrapes until every one of <paramref name="sampleNames"/> has a sample, or fails after <see cref="Deadline"/>.
    /// The scrape is the signal: it is what is under test, and the agent's meter is not reachable from here.
    /// </summary>
    private async Task<string> ScrapeUntilAsync(HttpClient http, Uri url, string[][] anyOf, Func<Task>? beforeEachScrape)
    {
        var stopwatch = Stopwatch.StartNew();
        for (var attempt = 0; ; attempt++)
        {
            if (beforeEachScrape is not null)
            {
                await beforeEachScrape();
            }

            var body = await http.GetStringAsync(url);
            var names = PrometheusScrape.Parse(body).Samples.Select(s => s.Name).ToHashSet();
            var missing = anyOf.Where(names2 => !names2.Any(names.Contains)).Select(n => string.Join(" or ", n)).ToList();
            if (missing.Count == 0)
            {
                output.WriteLine($"{string.Join(", ", anyOf.Take(3).Select(n => n[0]))}{(anyOf.Length > 3 ? ", ..." : "")} after {stopwatch.ElapsedMilliseconds} ms, {attempt + 1} scrapes");
                return body;
            }

            Assert.True(stopwatch.Elapsed < Deadline, $"not in the scrape after {Deadline.TotalSeconds:0} s: {string.Join(", ", missing)}");
            await Task.Delay(TimeSpan.FromMilliseconds(50 * Math.Min(attempt + 1, 10))); // polling the endpoint, bounded by the deadline
        }
    }

    private const int MaxBlockers = 32;

    private sealed class PoolBlockers
    {
        public readonly TaskCompletionSource Release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly TaskCompletionSource AllFinished = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Queued;
        public int Finished;

        public async Task ReleaseAsync()
        {
            Release.TrySetResult();
            await AllFinished.Task.WaitAsync(Deadline);
        }
    }

    /// <summary>
    /// Every pool thread, including each one the pool adds, ends up in <c>Task.Wait</c>: each blocker queues the next
    /// one (global queue) before it blocks, so work is always waiting and the pool must raise its thread goal whatever
    /// goal earlier tests left behind. At most <see cref="MaxBlockers"/>; all return on <see cref="PoolBlockers.ReleaseAsync"/>.
    /// </summary>
    private static PoolBlockers BlockEveryPoolThread()
    {
        var blockers = new PoolBlockers();
        Queue(blockers);
        return blockers;

        static void Queue(PoolBlockers blockers)
        {
            Interlocked.Increment(ref blockers.Queued);
            ThreadPool.QueueUserWorkItem(static state => Block((PoolBlockers)state!), blockers);
        }

        static void Block(PoolBlockers blockers)
        {
            try
            {
                if (!blockers.Release.Task.IsCompleted && Volatile.Read(ref blockers.Queued) < MaxBlockers)
                {
                    Queue(blockers);
                }

                blockers.Release.Task.Wait();
            }
            finally
            {
                // Each blocker is counted as queued before the one that queued it finishes, so equality means all are done.
                if (Interlocked.Increment(ref blockers.Finished) == Volatile.Read(ref blockers.Queued))
                {
                    blockers.AllFinished.TrySetResult();
                }
            }
        }
    }

    /// <summary>A real contended Monitor: a dedicated thread holds the lock until the runtime has counted another thread's contention on it.</summary>
    internal static void ProvokeLockContention()
    {
        var gate = new object();
        using var held = new ManualResetEventSlim();
        var before = Monitor.LockContentionCount;
        var holder = new Thread(() =>
        {
            lock (gate)
            {
                held.Set();
                var stopwatch = Stopwatch.StartNew();
                while (Monitor.LockContentionCount == before && stopwatch.Elapsed < Deadline)
                {
                    Thread.Yield();
                }
            }
        }) { IsBackground = true, Name = "contention holder" };
        holder.Start();
        Assert.True(held.Wait(Deadline));
        var contender = new Thread(() =>
        {
            lock (gate)
            {
            }
        }) { IsBackground = true, Name = "contention contender" };
        contender.Start();
        Assert.True(holder.Join(Deadline) && contender.Join(Deadline), "lock contention threads did not finish");
        Assert.True(Monitor.LockContentionCount > before, "the runtime counted no lock contention");
    }

    /// <summary>
    /// Completes when a faulted task nobody observed has become garbage: the continuation neither reads the exception
    /// nor keeps the task (a continuation drops its antecedent once it has run).
    /// </summary>
    private static Task FaultedTaskDroppedAsync()
        => Task.Run(() => throw new TimeoutException("unobserved on purpose"))
            .ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
}
