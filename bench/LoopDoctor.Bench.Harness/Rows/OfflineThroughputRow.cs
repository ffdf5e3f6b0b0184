using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Diagnostics.Tracing;
using LoopDoctor.Bench.Infrastructure;
using Microsoft.Diagnostics.NETCore.Client;

namespace LoopDoctor.Bench.Rows;

/// <summary>
/// P6: <c>loopdoctor analyze</c> on a ≥ 100 MB .nettrace vs a bare TraceEvent loop over the same file (both fresh
/// processes, alternating); the figure is the median of the per-pair time ratios.
/// </summary>
internal sealed class OfflineThroughputRow : BenchRow
{
    private const long FullTraceBytes = 100L * 1024 * 1024;

    // What the CLI's README tells users to record for `analyze`.
    private const string Providers = "Microsoft-Windows-DotNETRuntime:0x4000001C018:5,Microsoft-DotNETCore-SampleProfiler,LoopDoctor-Agent:0x7:5";

    public override string Id => "P6";
    public override string What => "offline throughput (`analyze` vs a bare TraceEvent loop, ≥ 100 MB .nettrace)";
    public override string Title => "Offline throughput";
    public override string Goal => "time ratio ≤ 2";

    public override async Task<RowResult> RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        if ((context.MissingCli ?? context.MissingBlockingApp) is { } missing)
        {
            return RowResult.Skip(this, missing);
        }

        long wanted = context.Smoke ? 1 : FullTraceBytes;
        var trace = Path.Combine(context.WorkDirectory, context.Smoke ? "p6-smoke.nettrace" : "p6-100mb.nettrace");
        if (context.Smoke || !File.Exists(trace) || new FileInfo(trace).Length < wanted)
        {
            await RecordAsync(context, trace, wanted, context.Smoke ? TimeSpan.FromSeconds(2) : TimeSpan.FromMinutes(10), cancellationToken);
        }

        long size = new FileInfo(trace).Length;
        var harness = typeof(BareTraceParse).Assembly.Location;
        var pairs = new List<(double Analyze, double Bare, string Events, double TraceLog, string TraceLogOutput)>();
        for (int i = 0; i < context.Runs; i++)
        {
            var (analyze, _) = await TimeAsync(context.CliDll, ["analyze", trace, "--format", "json"], okExitCodes: [0, 1]);
            var (bare, output) = await TimeAsync(harness, ["parse-trace", trace], okExitCodes: [0]);
            var (traceLog, traceLogOutput) = await TimeAsync(harness, ["parse-trace-tracelog", trace], okExitCodes: [0]);
            context.Log($"P6: round {i + 1}: analyze {analyze:F2} s, bare TraceEvent {bare:F2} s, ratio {analyze / bare:F2} ({output.Trim()}); TraceLog loop {traceLog:F2} s ({traceLogOutput.Trim()})");
            pairs.Add((analyze, bare, output.Trim(), traceLog, traceLogOutput.Trim()));
        }

        var ratio = Stats.Of(pairs.Select(p => p.Analyze / p.Bare));
        var section = new StringBuilder();
        section.AppendLine($"Trace: {size / 1024.0 / 1024.0:0.0} MB, recorded by the harness from BlockingApp under `/sync-over-async` (60 rps) + `/healthy` (100 rps) with");
        section.AppendLine($"the providers of `dotnet-trace collect -p PID --providers \"{Providers}\"` (what the CLI's README documents for `analyze`), recorded through DiagnosticsClient as dotnet-trace does;");
        section.AppendLine("kept in bench/out/ and reused while it is large enough. A = `dotnet loopdoctor.dll analyze FILE --format json`,");
        section.AppendLine("B = `dotnet LoopDoctor.Bench.Harness.dll parse-trace FILE` (`EventPipeEventSource` + `AllEvents` counting, nothing else).");
        section.AppendLine("C = `dotnet LoopDoctor.Bench.Harness.dll parse-trace-tracelog FILE`: the same loop through `TraceLog` (conversion to a");
        section.AppendLine("temporary .etlx, which resolves every stack from the rundown: how `analyze` read traces before, 7.27× the bare loop, and its");
        section.AppendLine("fallback now). `analyze` reads the file once (`src/LoopDoctor.Cli/Sessions/TraceFileSource.cs`): signals as events arrive,");
        section.AppendLine("each distinct stack interned once as raw addresses, named after the rundown at the end, then the signals replayed in order.");
        section.AppendLine("All fresh processes timed wall-clock, alternating A B C A B C.");
        section.AppendLine();
        section.AppendLine("| round | A: analyze (s) | B: bare loop (s) | A / B | B output | C: TraceLog loop (s) | A / C | C output |");
        section.AppendLine("|---:|---:|---:|---:|---|---:|---:|---|");
        for (int i = 0; i < pairs.Count; i++)
        {
            var p = pairs[i];
            section.AppendLine($"| {i + 1} | {p.Analyze:F2} | {p.Bare:F2} | {p.Analyze / p.Bare:F2} | `{p.Events}` | {p.TraceLog:F2} | {p.Analyze / p.TraceLog:F2} | `{p.TraceLogOutput}` |");
        }

        var overTraceLog = Stats.Of(pairs.Select(p => p.Analyze / p.TraceLog));
        section.AppendLine();
        section.AppendLine($"**Time ratio analyze / bare loop** {ratio.Format("0.00")}; analyze / TraceLog loop {overTraceLog.Format("0.00")}; " +
                           $"analyze throughput {Stats.Of(pairs.Select(p => size / 1024.0 / 1024.0 / p.Analyze)).Format("0.0", " MB/s")}.");
        if (ratio.Median > 2)
        {
            section.AppendLine();
            section.AppendLine($"The goal is missed on this run: the TraceLog loop costs {Stats.Of(pairs.Select(p => p.TraceLog / p.Bare)).Format("0.0")} × the bare loop; " +
                               "if `analyze` is close to C, it fell back to TraceLog (LOOPDOCTOR_ANALYZE_TRACELOG, or event records unreadable with this TraceEvent).");
        }

        bool met = size >= FullTraceBytes && ratio.Median <= 2;
        return Result($"{ratio.Format("0.00")} on {size / 1024.0 / 1024.0:0} MB", met, section.ToString(), context);
    }

    private static async Task<(double Seconds, string Output)> TimeAsync(string dll, string[] args, int[] okExitCodes)
    {
        var clock = Stopwatch.StartNew();
        using var process = ChildProcess.StartDotnet(dll, args);
        if (!await process.WaitForExitAsync(TimeSpan.FromMinutes(15)))
        {
            throw new BenchException($"{process.Display} did not finish in 15 minutes");
        }

        double seconds = clock.Elapsed.TotalSeconds;
        if (!okExitCodes.Contains(process.ExitCode))
        {
            throw new BenchException($"{process.Display} exited with {process.ExitCode}:\n{process.Tail(10)}");
        }

        return (seconds, process.StandardOutput.Length > 300 ? "" : process.StandardOutput);
    }

    /// <summary>
    /// Records like <c>dotnet-trace collect --providers …</c> does (DiagnosticsClient, the same providers, a 256 MB
    /// buffer, rundown at the end), in-process: stopping dotnet-trace relies on SIGINT, which a child inherits as ignored
    /// when the harness runs in the background (seen: it never stopped), and a trace without its rundown names nothing.
    /// </summary>
    private static async Task RecordAsync(BenchContext context, string path, long bytes, TimeSpan limit, CancellationToken cancellationToken)
    {
        context.Log($"P6: recording a trace of ≥ {bytes / 1024 / 1024} MB to {context.Relative(path)} ...");
        File.Delete(path);
        using var app = await BlockingAppHost.StartAsync(context, agent: true, cancellationToken);
        // Smoke: a light load; the trace only has to exist and parse.
        using var broken = OpenLoopLoad.Start(app.Url + "/sync-over-async", context.Smoke ? 5 : 60);
        using var healthy = OpenLoopLoad.Start(app.Url + "/healthy", context.Smoke ? 10 : 100);
        var client = new DiagnosticsClient(app.Pid);
        using var session = client.StartEventPipeSession(ParseProviders(Providers), requestRundown: true, circularBufferMB: 256);
        await using var file = File.Create(path);
        var copy = session.EventStream.CopyToAsync(file, cancellationToken);
        var clock = Stopwatch.StartNew();
        using var tick = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (await tick.WaitForNextTickAsync(cancellationToken))
        {
            long now = file.Length;
            if (bytes <= 1 ? clock.Elapsed >= limit : now >= bytes)
            {
                break;
            }

            if (copy.IsCompleted)
            {
                await copy; // surfaces the error
                throw new BenchException("the trace session ended early");
            }

            if (clock.Elapsed > limit)
            {
                throw new BenchException($"trace reached only {now / 1024 / 1024} MB in {limit.TotalMinutes:0} min");
            }
        }

        // Stop the load first: the rundown competes with it for the 2 cores, and the session's buffered events drain first.
        broken.Dispose();
        healthy.Dispose();
        await session.StopAsync(cancellationToken);
        await copy.WaitAsync(TimeSpan.FromMinutes(5), cancellationToken);
        context.Log($"P6: trace {new FileInfo(path).Length / 1024.0 / 1024.0:0.0} MB in {clock.Elapsed.TotalSeconds:F0} s");
    }

    /// <summary>dotnet-trace's provider syntax, "Name[:keywords[:level]]" comma-separated, into session providers.</summary>
    private static List<EventPipeProvider> ParseProviders(string text) =>
        text.Split(',').Select(spec =>
        {
            var parts = spec.Split(':');
            var keywords = parts.Length > 1 ? Convert.ToInt64(parts[1], 16) : -1;
            var level = parts.Length > 2 ? (EventLevel)int.Parse(parts[2], CultureInfo.InvariantCulture) : EventLevel.Informational;
            return new EventPipeProvider(parts[0], level, keywords);
        }).ToList();
}
