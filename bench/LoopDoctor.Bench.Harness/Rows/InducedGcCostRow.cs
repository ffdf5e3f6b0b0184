using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using LoopDoctor.Bench.Infrastructure;

namespace LoopDoctor.Bench.Rows;

/// <summary>
/// T1: what the GC that <c>diagnose</c> induces (a second session with GC | GCHeapCollect, see
/// <c>LiveSession.InduceGarbageCollectionAsync</c>) costs a target, by live-heap size and shape. Per heap, one fresh
/// bench/LoopDoctor.GcTarget process, then rounds of (control, induced) in alternating order. The pause comes from the
/// runtime's own GC events (GCSuspendEEBegin → GCRestartEEEnd) and, cross-checked, from the target's
/// <c>GC.GetTotalPauseDuration()</c> before and after.
/// </summary>
internal sealed partial class InducedGcCostRow : BenchRow
{
    /// <summary>Heaps to measure, e.g. <c>graph:50,graph:500,graph:2048,arrays:2048</c> (shape:MB; shapes in bench/LoopDoctor.GcTarget).</summary>
    private const string HeapsVariable = "LOOPDOCTOR_BENCH_T1_HEAPS";
    private const string DefaultHeaps = "graph:50,graph:500,graph:2048";

    public override string Id => "T1";
    public override string What => "target cost of an induced GC (GC + GCHeapCollect session, by live heap)";
    public override string Title => "Target cost of an induced GC";
    public override string Goal => "a figure for the README (no target); each trigger is one blocking gen2 GC, the control none";

    public override async Task<RowResult> RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var targetDll = Path.Combine(context.RepoRoot, "bench", "LoopDoctor.GcTarget", "bin", "Release", "net10.0", "LoopDoctor.GcTarget.dll");
        if (!File.Exists(targetDll))
        {
            return RowResult.Skip(this, $"GC target not built ({context.Relative(targetDll)})");
        }

        var heaps = (context.Smoke ? "graph:50" : Environment.GetEnvironmentVariable(HeapsVariable) is { Length: > 0 } h ? h : DefaultHeaps)
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(ParseHeap).ToList();
        int rounds = context.Smoke ? 1 : Math.Max(5, context.Runs);
        var window = TimeSpan.FromSeconds(context.Smoke ? 1 : 2);
        var results = new List<HeapResult>();
        foreach (var (shape, mb) in heaps)
        {
            results.Add(await MeasureHeapAsync(context, targetDll, shape, mb, rounds, window, cancellationToken));
        }

        var section = new StringBuilder();
        section.AppendLine("Per heap a fresh `dotnet bench/LoopDoctor.GcTarget/bin/Release/net10.0/LoopDoctor.GcTarget.dll --heap-mb N --shape S`: default GC settings");
        section.AppendLine("(workstation, concurrent: what most apps run with), an idle process holding a live heap of N MB. *graph*: a");
        section.AppendLine("`Dictionary<long, Entry>` cache whose entries hold an 8-character string and a reference to another entry (2 small objects");
        section.AppendLine("per item, ~116 B); *arrays*: 1 MiB byte arrays (nothing to trace inside: the cheap case). Once it is built (and compacted), rounds of");
        section.AppendLine("*induced*: a session on `Microsoft-Windows-DotNETRuntime` at Informational with keywords GC (0x1) | GCHeapCollect (0x800000),");
        section.AppendLine("what `diagnose` starts one second before its end when the agent is present (`LiveSession.InduceGarbageCollectionAsync`), kept");
        section.AppendLine("until the gen2 collection's GCRestartEEEnd arrives; and *control*: the same session with GC (0x1) alone, kept open");
        section.AppendLine($"{window.TotalSeconds:0} s; the two alternate in order. **Pause** = GCSuspendEEBegin → GCRestartEEEnd in the runtime's timestamps;");
        section.AppendLine("cross-checked by the target's `GC.GetTotalPauseDuration()` before and after (*target Δpause*). Target CPU from /proc/PID/stat");
        section.AppendLine("(10 ms ticks) over the session, the session's own overhead included.");
        section.AppendLine();
        section.AppendLine("| heap | objects | built in | induced: pause | target Δpause | GCs seen (gen, type, reason) | target CPU | RSS after − before | start call → GC end | control: GCs | control: Δpause |");
        section.AppendLine("|---|---:|---:|---|---|---|---|---|---|---:|---|");
        bool met = true;
        var figure = new List<string>();
        foreach (var r in results)
        {
            var pause = Stats.Of(r.Induced.Select(m => m.EventPauseMs));
            var kinds = string.Join("; ", r.Induced.SelectMany(m => m.Session.Collections).Select(c => $"gen{c.Generation} {c.Type} {c.Reason}").Distinct());
            section.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Shape} {r.HeapMb} MB | {r.Objects / 1e6:0.0} M | {r.BuildSeconds:0.0} s | **{pause.Format("0.0", " ms")}** | {Stats.Of(r.Induced.Select(m => m.TargetPauseMs)).Format("0.0", " ms")} | {kinds} | {Stats.Of(r.Induced.Select(m => m.CpuMs)).Format("0", " ms")} | {Stats.Of(r.Induced.Select(m => m.RssDeltaMb)).Format("0", " MB")} | {Stats.Of(r.Induced.Select(m => m.Session.SessionMs)).Format("0", " ms")} | {r.Control.Sum(m => m.Gen2Delta + m.Session.Collections.Count)} | {Stats.Of(r.Control.Select(m => m.TargetPauseMs)).Format("0.0", " ms")} |"));
            figure.Add($"{r.Shape} {r.HeapMb} MB: {pause.Format("0", " ms")}");
            met &= r.Induced.All(m => m.Gen2Delta == 1 && m.Session.Collections.Count(c => c.Generation == 2) == 1)
                   && r.Control.All(m => m.Gen2Delta == 0 && m.Session.Collections.Count == 0);
        }

        section.AppendLine();
        section.AppendLine("Per round (induced pause in ms, events / target):");
        section.AppendLine();
        foreach (var r in results)
        {
            section.AppendLine($"- {r.Shape} {r.HeapMb} MB: {string.Join(", ", r.Induced.Select(m => string.Create(CultureInfo.InvariantCulture, $"{m.EventPauseMs:0.0}/{m.TargetPauseMs:0.0}")))}; load average before each induced GC: {string.Join(", ", r.Induced.Select(m => m.LoadAverage))}");
        }

        section.AppendLine();
        section.AppendLine("*target CPU* is the whole process over the induced session (GC threads, EventPipe, the diagnostics server); *RSS* from `VmRSS`.");
        section.AppendLine("*start call → GC end* is the harness's wall time from `StartEventPipeSession` to the gen2 GCRestartEEEnd reaching it.");
        section.AppendLine("A control column of 0 means the session alone (GC keyword without GCHeapCollect) collects nothing: the pause is the induced collection's.");
        section.AppendLine();
        section.AppendLine("Reading the figures: the collection is a blocking (NonConcurrentGC) gen2, whatever the target's concurrent setting: background GC does");
        section.AppendLine("not apply to induced collections, so every managed thread of the target stops for the whole pause. Its cost grows with the");
        section.AppendLine("number of live objects and references to trace, not with bytes (the *arrays* shape: next to nothing). The runtime collects on the");
        section.AppendLine("thread that enables the session, before it answers the request: `StartEventPipeSession` returns only once the collection is");
        section.AppendLine("over (*start call → GC end*). On a loaded machine the pause stretches beyond the GC's own CPU time (workstation GC marks on one");
        section.AppendLine("thread, which then competes for the cores): compare *induced: pause* with *target CPU* and the load averages.");
        section.AppendLine("Server GC (not measured here) marks with one thread per core.");
        return Result(string.Join("; ", figure), met, section.ToString(), context);
    }

    private static async Task<HeapResult> MeasureHeapAsync(BenchContext context, string targetDll, string shape, int mb, int rounds, TimeSpan window, CancellationToken cancellationToken)
    {
        using var target = ChildProcess.StartDotnet(targetDll, ["--heap-mb", mb.ToString(CultureInfo.InvariantCulture), "--shape", shape]);
        var (_, ready) = await target.WaitForLineAsync(l => l.StartsWith("ready ", StringComparison.Ordinal), TimeSpan.FromMinutes(5), cancellationToken);
        context.Log($"T1: {ready}");
        var readyMatch = ReadyLine().Match(ready);
        var result = new HeapResult(shape, int.Parse(readyMatch.Groups["heap"].Value, CultureInfo.InvariantCulture),
            long.Parse(readyMatch.Groups["objects"].Value, CultureInfo.InvariantCulture), double.Parse(readyMatch.Groups["build"].Value, CultureInfo.InvariantCulture));
        int statsId = 0;
        for (int round = 0; round < rounds; round++)
        {
            foreach (bool induce in round % 2 == 0 ? [false, true] : new[] { true, false })
            {
                string load = LoadAverage();
                var before = await StatsAsync(target, ++statsId, cancellationToken);
                double cpuBefore = ProcStat.ProcessCpuSeconds(target.Id);
                double rssBefore = RssMb(target.Id);
                var session = await GcSession.RunAsync(target.Id, induce, induce ? TimeSpan.FromMinutes(1) : window, cancellationToken);
                double cpu = (ProcStat.ProcessCpuSeconds(target.Id) - cpuBefore) * 1000;
                double rssAfter = RssMb(target.Id);
                var after = await StatsAsync(target, ++statsId, cancellationToken);
                var measurement = new Measurement(session, session.Collections.Where(c => c.Generation == 2).Sum(c => c.PauseMs),
                    after.PauseMs - before.PauseMs, after.Gen2 - before.Gen2, cpu, rssAfter - rssBefore, load);
                (induce ? result.Induced : result.Control).Add(measurement);
                context.Log(string.Create(CultureInfo.InvariantCulture,
                    $"T1: {shape} {mb} MB round {round + 1} {(induce ? "induced" : "control")}: pause {measurement.EventPauseMs:0.0} ms (target Δ {measurement.TargetPauseMs:0.0} ms, gen2 +{measurement.Gen2Delta}), GCs [{string.Join("; ", session.Collections)}], cpu {cpu:0} ms, start call {session.StartCallMs:0} ms, session {session.SessionMs:0} ms, load {load}"));
                if (induce && measurement.Gen2Delta == 0)
                {
                    throw new BenchException($"the induced session on {target.Id} ({shape} {mb} MB) caused no gen2 collection");
                }
            }
        }

        target.Dispose();
        return result;
    }

    private static async Task<(int Gen2, double PauseMs)> StatsAsync(ChildProcess target, int id, CancellationToken cancellationToken)
    {
        var prefix = $"stats id={id} ";
        var wait = target.WaitForLineAsync(l => l.StartsWith(prefix, StringComparison.Ordinal), TimeSpan.FromSeconds(30), cancellationToken);
        await target.WriteLineAsync($"stats {id}");
        var (_, line) = await wait;
        var m = StatsLine().Match(line);
        return (int.Parse(m.Groups["gen2"].Value, CultureInfo.InvariantCulture), double.Parse(m.Groups["pause"].Value, CultureInfo.InvariantCulture));
    }

    private static (string Shape, int Mb) ParseHeap(string text)
    {
        var parts = text.Split(':');
        return parts.Length == 2 && parts[0] is "graph" or "arrays" && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int mb) && mb > 0
            ? (parts[0], mb)
            : throw new BenchException($"{HeapsVariable}: '{text}' is not shape:MB (graph:500, arrays:2048)");
    }

    private static double RssMb(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
            }
        }

        return double.NaN;
    }

    private static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    private sealed record Measurement(GcSessionResult Session, double EventPauseMs, double TargetPauseMs, int Gen2Delta, double CpuMs, double RssDeltaMb, string LoadAverage);

    private sealed record HeapResult(string Shape, int HeapMb, long Objects, double BuildSeconds)
    {
        public List<Measurement> Induced { get; } = [];
        public List<Measurement> Control { get; } = [];
    }

    [GeneratedRegex(@"objects=(?<objects>\d+) heap_mb=(?<heap>\d+) build_s=(?<build>[\d.]+)")]
    private static partial Regex ReadyLine();

    [GeneratedRegex(@"gen2=(?<gen2>\d+) pause_ms=(?<pause>[\d.]+)")]
    private static partial Regex StatsLine();
}
