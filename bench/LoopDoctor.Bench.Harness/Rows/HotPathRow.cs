using System.Globalization;
using System.Text;
using System.Text.Json;
using LoopDoctor.Bench.Infrastructure;

namespace LoopDoctor.Bench.Rows;

/// <summary>
/// P2: the agent's hot paths under BenchmarkDotNet with [MemoryDiagnoser] (bench/LoopDoctor.Benchmarks), run
/// <see cref="BenchContext.Runs"/> times; the figure is the median over runs of each run's median.
/// </summary>
internal sealed class HotPathRow : BenchRow
{
    // Method → (label, judged against the ≤ 20 ns goal, judged against the 0 B goal).
    private static readonly (string Method, string Label, bool TimeGoal, bool ZeroAlloc)[] Known =
    [
        ("Record", "`LogLinearHistogram.Record` (log-uniform values 10 µs–1 s)", true, true),
        ("WindowedRecord", "`WindowedHistogram.Record` (timestamp passed in, as the probes do)", false, true),
        ("WindowedRecordReadingClock", "`WindowedHistogram.Record` (reads `TimeProvider.System` itself)", false, true),
        ("RecordWithExpectedInterval", "`LogLinearHistogram.RecordWithExpectedInterval` (D = 1 s, I = 10 ms → 100 values)", false, true),
        ("SnapshotTenSeconds", "`WindowedHistogram.GetSnapshot(10 s)` + p99 (scrape path, not hot)", false, false),
        ("TickWhileOutstanding", "Sampler tick, probe outstanding (what a tick costs during a stall)", false, true),
        ("TickRecordAndPost", "Sampler tick, record one sample + post the next (inline context)", false, true),
        ("TickRecordAndPostListened", "Same + the standalone endpoint's `MeterCollector` aggregating the `loopdoctor.scheduler.delay` histogram (tagged)", false, true),
        ("ThreadPoolRoundTrip", "Thread-pool probe round trip (tick + `UnsafeQueueUserWorkItem` + pool dispatch + record)", false, true),
        ("CurrentDelay", "`LagProbe.CurrentDelay` (a gauge read)", false, true),
        ("PoolWaitStartStop", "Listener: WaitHandleWaitStart + Stop on a pool worker (2 events → 1 counted wait)", false, true),
        ("NonPoolWaitStartStop", "Listener: WaitHandleWaitStart + Stop on a non-pool thread", false, true),
        ("ContentionStop", "Listener: ContentionStop (counter + duration histogram)", false, true),
        ("ThreadInjection", "Listener: ThreadPoolWorkerThreadAdjustment, upward (tagged counter)", false, true),
    ];

    public override string Id => "P2";
    public override string What => "hot-path cost (BenchmarkDotNet, MemoryDiagnoser)";
    public override string Title => "Agent hot paths";
    public override string Goal => "≤ 20 ns per record; 0 B per record and per tick";

    public override async Task<RowResult> RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        if (!File.Exists(context.BenchmarksDll))
        {
            return RowResult.Skip(this, $"benchmarks not built ({context.Relative(context.BenchmarksDll)})");
        }

        // In-process toolchain: no per-run project build (minutes on 2 shared cores); MemoryDiagnoser works the same.
        string[] filter = context.Smoke ? ["*HistogramBenchmarks.Record*", "*ProbeTickBenchmarks.TickWhileOutstanding*", "*RuntimeEventListenerBenchmarks.ContentionStop*"]
            : ["*HistogramBenchmarks*", "*ProbeTickBenchmarks*", "*RuntimeEventListenerBenchmarks*"];
        string job = context.Smoke ? "dry" : "short";
        var perRun = new List<Dictionary<string, (double Ns, double Bytes)>>();
        for (int run = 0; run < context.Runs; run++)
        {
            var artifacts = Path.Combine(context.WorkDirectory, "bdn", $"run{run}");
            if (Directory.Exists(artifacts))
            {
                Directory.Delete(artifacts, recursive: true);
            }

            context.Log($"P2: BenchmarkDotNet run {run + 1}/{context.Runs} (job {job}, in-process)");
            using var bdn = ChildProcess.StartDotnet(context.BenchmarksDll,
                ["--filter", .. filter, "--job", job, "--inProcess", "--exporters", "json", "--artifacts", artifacts, "--join"]);
            if (!await bdn.WaitForExitAsync(TimeSpan.FromMinutes(20)) || bdn.ExitCode != 0)
            {
                throw new BenchException($"BenchmarkDotNet failed:\n{bdn.Tail(20)}");
            }

            perRun.Add(ReadResults(artifacts));
        }

        var section = new StringBuilder();
        section.AppendLine("What the in-process agent costs its host on every record and on every tick of its sampler thread");
        section.AppendLine("(`bench/LoopDoctor.Benchmarks`: `Histograms/HistogramBenchmarks.cs`, `Probes/ProbeTickBenchmarks.cs`,");
        section.AppendLine("`RuntimeEventListenerBenchmarks.cs` for the runtime-events listener's handlers), BenchmarkDotNet 0.14,");
        section.AppendLine($"job `{job}`, in-process toolchain, {context.Runs} runs back to back. Figure = median over the runs of each run's median;");
        section.AppendLine("the allocation column is exact regardless of machine noise.");
        section.AppendLine();
        section.AppendLine("| operation | median | runs (per-run median) | allocated |");
        section.AppendLine("|---|---:|---|---:|");
        bool met = true;
        string figure = "";
        foreach (var (method, label, timeGoal, zeroAlloc) in Known)
        {
            var values = perRun.Where(r => r.ContainsKey(method)).Select(r => r[method]).ToList();
            if (values.Count == 0)
            {
                continue;
            }

            var ns = Stats.Of(values.Select(v => v.Ns));
            double bytes = values.Max(v => v.Bytes);
            section.AppendLine($"| {label} | **{Time(ns.Median)}** | {string.Join(" / ", values.Select(v => Time(v.Ns)))} | {bytes.ToString("#,0", CultureInfo.InvariantCulture)} B |");
            if (timeGoal)
            {
                met &= ns.Median <= 20;
                figure = $"record {Time(ns.Median)} ({Time(ns.Min)}–{Time(ns.Max)})";
            }

            if (zeroAlloc)
            {
                met &= bytes == 0;
            }
        }

        var allocating = Known.Where(k => k.ZeroAlloc).Select(k => k.Method).Where(m => perRun.Any(r => r.TryGetValue(m, out var v) && v.Bytes > 0)).ToList();
        figure += allocating.Count == 0 ? "; 0 B per record and per tick" : $"; allocates: {string.Join(", ", allocating)}";
        section.AppendLine();
        section.AppendLine("Reading the figures:");
        section.AppendLine();
        section.AppendLine("- **Record**: two interlocked operations (bucket, sum) and a compare-exchange only when the max grows. A windowed");
        section.AppendLine("  record is two histogram records (slot and cumulative total) plus the slot check.");
        section.AppendLine("- **Reading the clock dominates** when a caller does not already hold a timestamp (`Stopwatch.GetTimestamp` is tens of ns");
        section.AppendLine("  on this VM), so the probes pass the timestamp they already read.");
        section.AppendLine("- **The coordinated-omission correction is bounded by buckets, not by D / I**: synthetic values sharing a bucket are");
        section.AppendLine("  added with one interlocked add, so a 60 s stall at 10 ms (6,000 values) costs about as much as a 1 s one.");
        section.AppendLine("- **A sampler tick is a fraction of a microsecond per probe**: at the default 10 ms interval, ~0.002% of one core.");
        section.AppendLine("  The pool round trip is dominated by waking a parked worker: latency, not CPU the agent spends.");
        section.AppendLine("- **Listener callbacks**: the `MeterCollector` row is the agent's histogram aggregated for its own /metrics endpoint");
        section.AppendLine("  (what an exporter's subscription costs per sample). The *Listener:* rows are `RuntimeEventListener`'s handlers per");
        section.AppendLine("  decoded runtime event; what EventPipe itself costs per event is in \"Runtime listener\" below.");
        section.AppendLine("- The snapshot allocates one bucket array per call; it runs per scrape or health check, not per record.");
        return Result(figure, met, section.ToString(), context);
    }

    private static Dictionary<string, (double Ns, double Bytes)> ReadResults(string artifacts)
    {
        var results = new Dictionary<string, (double, double)>();
        var files = Directory.Exists(artifacts) ? Directory.GetFiles(artifacts, "*.json", SearchOption.AllDirectories) : [];
        if (files.Length == 0)
        {
            throw new BenchException($"BenchmarkDotNet wrote no JSON report under {artifacts}");
        }

        foreach (var file in files)
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            foreach (var b in doc.RootElement.GetProperty("Benchmarks").EnumerateArray())
            {
                if (!b.TryGetProperty("Statistics", out var stats) || stats.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                double bytes = b.TryGetProperty("Memory", out var memory) && memory.ValueKind == JsonValueKind.Object
                    ? memory.GetProperty("BytesAllocatedPerOperation").GetDouble()
                    : double.NaN;
                results[b.GetProperty("Method").GetString()!] = (stats.GetProperty("Median").GetDouble(), bytes);
            }
        }

        return results;
    }

    private static string Time(double ns) => ns switch
    {
        >= 1_000_000 => $"{(ns / 1_000_000).ToString("0.##", CultureInfo.InvariantCulture)} ms",
        >= 1_000 => $"{(ns / 1_000).ToString("0.##", CultureInfo.InvariantCulture)} µs",
        _ => $"{ns.ToString("0.#", CultureInfo.InvariantCulture)} ns",
    };
}
