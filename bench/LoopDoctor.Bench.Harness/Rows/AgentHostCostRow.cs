using System.Text;
using LoopDoctor.Bench.Infrastructure;

namespace LoopDoctor.Bench.Rows;

/// <summary>
/// P1: BlockingApp's <c>/healthy</c> at saturation under wrk, embedded agent on (A) vs <c>--no-agent</c> (B),
/// alternating A B A B … in fresh processes; the figure is the median of the per-pair ratios.
/// </summary>
internal sealed class AgentHostCostRow : BenchRow
{
    public override string Id => "P1";
    public override string What => "host cost of the embedded agent (/healthy under wrk, on vs off)";
    public override string Title => "Host cost of the embedded agent";
    public override string Goal => "RPS ratio ≥ 0.99; p99 latency ratio ≤ 1.02";

    public override async Task<RowResult> RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        if (context.MissingBlockingApp is { } missing)
        {
            return RowResult.Skip(this, missing);
        }

        if (context.Wrk is null)
        {
            return RowResult.Skip(this, "wrk not installed (apt-get install wrk)");
        }

        var warmup = context.Smoke ? TimeSpan.Zero : TimeSpan.FromSeconds(5);
        var measure = context.Smoke ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(15);
        var pairs = new List<(Run On, Run Off)>();
        for (int i = 0; i < context.Pairs; i++)
        {
            // A B, B A, A B, …: whichever runs first in a pair alternates, so an order effect cancels instead of biasing.
            // A pair whose server died (seen once on the shared machine, cause outside the run) is measured again, once.
            Run on = default, off = default;
            for (int attempt = 1; ; attempt++)
            {
                try
                {
                    (on, off) = await MeasurePairAsync(context, i, warmup, measure, cancellationToken);
                    break;
                }
                catch (Exception e) when (attempt == 1 && e is BenchException or IOException)
                {
                    context.Log($"P1: pair {i + 1} failed, measuring it again: {e.Message.Split('\n')[0]}");
                }
            }

            context.Log($"P1: pair {i + 1}: agent on {on.RequestsPerSecond:F0} rps p99 {on.P99Milliseconds:F1} ms | off {off.RequestsPerSecond:F0} rps p99 {off.P99Milliseconds:F1} ms | ratio {on.RequestsPerSecond / off.RequestsPerSecond:F3}");
            pairs.Add((on, off));
        }

        return Report(context, pairs, warmup, measure);
    }

    private static async Task<(Run On, Run Off)> MeasurePairAsync(BenchContext context, int i, TimeSpan warmup, TimeSpan measure, CancellationToken cancellationToken)
    {
        if (i % 2 == 0)
        {
            var on = await MeasureAsync(context, agent: true, warmup, measure, cancellationToken);
            return (on, await MeasureAsync(context, agent: false, warmup, measure, cancellationToken));
        }

        var off = await MeasureAsync(context, agent: false, warmup, measure, cancellationToken);
        return (await MeasureAsync(context, agent: true, warmup, measure, cancellationToken), off);
    }

    private RowResult Report(BenchContext context, List<(Run On, Run Off)> pairs, TimeSpan warmup, TimeSpan measure)
    {

        var rpsRatio = Stats.Of(pairs.Select(p => p.On.RequestsPerSecond / p.Off.RequestsPerSecond));
        var p99Ratio = Stats.Of(pairs.Select(p => p.On.P99Milliseconds / p.Off.P99Milliseconds));
        var section = new StringBuilder();
        section.AppendLine($"`dotnet samples/BlockingApp/bin/Release/net10.0/BlockingApp.dll --urls http://127.0.0.1:0 [--no-agent]`; per run a fresh process,");
        section.AppendLine($"{warmup.TotalSeconds:0} s wrk warm-up, then `wrk -t1 -c{Wrk.ConnectionsFor(context)} -d{measure.TotalSeconds:0}s --latency {{url}}/healthy` (closed loop; 512 connections");
        section.AppendLine("make it CPU-bound, the server taking ~0.85 of the 2 cores and wrk the rest; 128 left it latency-bound at ~0.35 cores;");
        section.AppendLine("`/healthy` awaits a 20 ms dependency and reads a 64 KiB file). Order: on off, off on, on off, … (the first of a pair");
        section.AppendLine("alternates so an order effect cancels); ratio = on / off within a pair.");
        section.AppendLine();
        section.AppendLine("| pair | agent on: rps | p99 | agent off: rps | p99 | rps ratio | p99 ratio |");
        section.AppendLine("|---:|---:|---:|---:|---:|---:|---:|");
        for (int i = 0; i < pairs.Count; i++)
        {
            var (on, off) = pairs[i];
            section.AppendLine($"| {i + 1} | {on.RequestsPerSecond:F0} | {on.P99Milliseconds:F1} ms | {off.RequestsPerSecond:F0} | {off.P99Milliseconds:F1} ms | " +
                               $"{on.RequestsPerSecond / off.RequestsPerSecond:F3} | {on.P99Milliseconds / off.P99Milliseconds:F3} |");
        }

        section.AppendLine();
        section.AppendLine($"**RPS ratio** {rpsRatio.Format("0.000")}; **p99 ratio** {p99Ratio.Format("0.000")}. Absolute: on {Stats.Of(pairs.Select(p => p.On.RequestsPerSecond)).Format("0")} rps, " +
                           $"off {Stats.Of(pairs.Select(p => p.Off.RequestsPerSecond)).Format("0")} rps.");
        long errors = pairs.Sum(p => p.On.Non2xx + p.Off.Non2xx);
        if (errors > 0)
        {
            section.AppendLine($"Non-2xx responses: {errors}.");
        }

        bool met = rpsRatio.Median >= 0.99 && p99Ratio.Median <= 1.02;
        var cpuRatio = Stats.Of(pairs.Select(p => p.On.CpuMicrosecondsPerRequest(measure) / p.Off.CpuMicrosecondsPerRequest(measure)));
        var agentShare = Stats.Of(pairs.Select(p => p.On.AgentThreadCpuSeconds / p.On.ProcessCpuSeconds * 100));
        var agentCpuPerSecond = Stats.Of(pairs.Select(p => p.On.AgentThreadCpuSeconds * 1000 / measure.TotalSeconds));
        var cvOn = Cv(pairs.Select(p => p.On.RequestsPerSecond));
        var cvOff = Cv(pairs.Select(p => p.Off.RequestsPerSecond));
        section.AppendLine();
        section.AppendLine("What the noise allows and what the agent really spends (CPU time from /proc/PID/stat and /proc/PID/task/*/stat over the");
        section.AppendLine("measured wrk run; /proc counts in 10 ms ticks):");
        section.AppendLine();
        section.AppendLine($"- Run-to-run variation of the same configuration (coefficient of variation of RPS): agent on {cvOn:0.0}%, agent off {cvOff:0.0}%.");
        section.AppendLine($"- Server CPU per request, on / off: {cpuRatio.Format("0.000")}.");
        section.AppendLine($"- The agent's own threads (`LoopDoctor sampler`, metrics endpoint) during the run: {agentCpuPerSecond.Format("0.0", " ms")} of CPU per second,");
        section.AppendLine($"  {agentShare.Format("0.00", "%")} of the server's CPU. The probe work items it queues (100/s, ~µs each, P2) run on pool threads and are not in this figure.");
        var cpuPerSecondRatio = Stats.Of(pairs.Select(p => p.On.ProcessCpuSeconds / p.Off.ProcessCpuSeconds));
        section.AppendLine($"- Server CPU per second of the run, on / off: {cpuPerSecondRatio.Format("0.000")} (the host is shared: a process that wants more CPU gets more).");
        section.AppendLine();
        section.AppendLine("Server CPU by thread during the run (ms of CPU per second, median over the runs; Linux truncates names to 15 characters):");
        section.AppendLine();
        section.AppendLine("| thread | agent on | agent off |");
        section.AppendLine("|---|---:|---:|");
        var names = pairs.SelectMany(p => p.On.CpuByThread.Keys.Concat(p.Off.CpuByThread.Keys)).Distinct()
            .Select(n => (Name: n, On: Stats.Of(pairs.Select(p => p.On.CpuByThread.GetValueOrDefault(n) * 1000 / measure.TotalSeconds)).Median,
                          Off: Stats.Of(pairs.Select(p => p.Off.CpuByThread.GetValueOrDefault(n) * 1000 / measure.TotalSeconds)).Median))
            .Where(t => t.On >= 1 || t.Off >= 1)
            .OrderByDescending(t => Math.Max(t.On, t.Off));
        foreach (var (name, onMs, offMs) in names)
        {
            section.AppendLine($"| `{name}` | {onMs:0.0} | {offMs:0.0} |");
        }

        section.AppendLine();
        section.AppendLine(Interpret(rpsRatio, p99Ratio, met, Math.Max(cvOn, cvOff)));
        return Result($"rps ratio {rpsRatio.Format("0.000")}; p99 ratio {p99Ratio.Format("0.000")}", met, section.ToString(), context);
    }

    private static double Cv(IEnumerable<double> values)
    {
        var list = values.ToList();
        if (list.Count < 2)
        {
            return double.NaN;
        }

        double mean = list.Average();
        return Math.Sqrt(list.Sum(v => (v - mean) * (v - mean)) / (list.Count - 1)) / mean * 100;
    }

    private static string Interpret(Stats rps, Stats p99, bool met, double cv)
    {
        double spread = rps.Max - rps.Min;
        string noise = $"The pair-to-pair spread of the RPS ratio is {spread:0.000} and one configuration's runs vary by {cv:0.0}% (the machine is shared;" +
                       $" load average {MachineInfo.LoadAverage()} at the end).";
        if (met)
        {
            return noise + (spread > 0.02
                ? " The median meets the goal, but single pairs range more widely than the 1% the goal asks about: on this machine the" +
                  " throughput comparison only bounds the cost; the CPU figures above measure it."
                : "");
        }

        return noise + " A median outside the goal by less than that spread is within this machine's noise: the measurement cannot" +
               " resolve a 1% difference here. What the agent does per request is nothing (it has no per-request hook in /healthy);" +
               " its steady cost is the sampler thread (a tick every 10 ms, ~0.2 µs of CPU each, P2), the timer-lag timer (every 100 ms)" +
               " and the probe work item queued to the pool every 10 ms.";
    }

    private static async Task<Run> MeasureAsync(BenchContext context, bool agent, TimeSpan warmup, TimeSpan measure, CancellationToken cancellationToken)
    {
        using var app = await BlockingAppHost.StartAsync(context, agent, cancellationToken);
        if (warmup > TimeSpan.Zero)
        {
            await Wrk.RunAsync(context, app.Url + "/healthy", warmup, cancellationToken);
        }

        double processBefore = ProcStat.ProcessCpuSeconds(app.Pid), agentBefore = ProcStat.ThreadsCpuSeconds(app.Pid, "LoopDoctor");
        var threadsBefore = ProcStat.CpuSecondsByThreadName(app.Pid);
        var result = await Wrk.RunAsync(context, app.Url + "/healthy", measure, cancellationToken);
        if (app.Process.HasExited)
        {
            throw new BenchException($"BlockingApp exited during the run (code {app.Process.ExitCode}):\n{app.Process.Tail(10)}");
        }

        double process = ProcStat.ProcessCpuSeconds(app.Pid) - processBefore, agentThreads = ProcStat.ThreadsCpuSeconds(app.Pid, "LoopDoctor") - agentBefore;
        return new Run(result, process, agentThreads, ProcStat.Delta(threadsBefore, ProcStat.CpuSecondsByThreadName(app.Pid)));
    }

    /// <summary>One wrk run and the CPU the server spent during it: all threads, and the agent's own ("LoopDoctor …") threads.</summary>
    private readonly record struct Run(WrkResult Wrk, double ProcessCpuSeconds, double AgentThreadCpuSeconds, Dictionary<string, double> CpuByThread)
    {
        public double RequestsPerSecond => Wrk.RequestsPerSecond;
        public double P99Milliseconds => Wrk.P99Milliseconds;
        public long Non2xx => Wrk.Non2xx;
        public double CpuMicrosecondsPerRequest(TimeSpan measure) => ProcessCpuSeconds * 1e6 / (Wrk.RequestsPerSecond * measure.TotalSeconds);
    }
}
