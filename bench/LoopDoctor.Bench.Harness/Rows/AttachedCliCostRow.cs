using System.Globalization;
using System.Text;
using LoopDoctor.Bench.Infrastructure;

namespace LoopDoctor.Bench.Rows;

/// <summary>
/// P5: <c>/healthy</c> at saturation alone vs with <c>loopdoctor monitor</c> attached vs with
/// <c>dotnet-trace collect --clrevents waithandle --clreventlevel verbose</c>, rotating in fresh processes. Besides the
/// RPS ratios the issue asks for, the server's CPU time per request and the tool's own CPU (from /proc): on a shared
/// 2-core machine the RPS of one run varies by more than the cost being measured, CPU per request much less.
/// </summary>
internal sealed class AttachedCliCostRow : BenchRow
{
    /// <summary>
    /// Extra monitor configurations, e.g. <c>off@--stack-sampling off;slow@--refresh 5s</c>: each runs <c>monitor</c> with the
    /// arguments after <c>@</c>.
    /// </summary>
    private const string VariantsVariable = "LOOPDOCTOR_BENCH_P5_VARIANTS";

    /// <summary>
    /// Another build's loopdoctor.dll (e.g. an earlier commit's, built in a worktree): adds <c>monitor (before)</c>, run in the same
    /// rounds, so "no worse than before" is an alternating A/B in one invocation.
    /// </summary>
    private const string BeforeVariable = "LOOPDOCTOR_BENCH_P5_BEFORE";

    /// <summary>
    /// Another endpoint of BlockingApp to load instead of <c>/healthy</c>, e.g. the MVC action
    /// <c>/api/customers/taskasyncwait</c> (its request events reach an attached session through the DiagnosticSource bridge).
    /// </summary>
    private const string PathVariable = "LOOPDOCTOR_BENCH_P5_PATH";

    private static string LoadPath => Environment.GetEnvironmentVariable(PathVariable) is { Length: > 1 } path && path.StartsWith('/') ? path : "/healthy";

    public override string Id => "P5";
    public override string What => "host cost of an attached CLI (/healthy: alone vs `monitor` vs dotnet-trace)";
    public override string Title => "Host cost of an attached CLI";
    public override string Goal => "RPS ratio ≥ 0.95 and no worse than dotnet-trace's";

    public override async Task<RowResult> RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        if ((context.MissingCli ?? context.MissingBlockingApp) is { } missing)
        {
            return RowResult.Skip(this, missing);
        }

        if (context.Wrk is null)
        {
            return RowResult.Skip(this, "wrk not installed (apt-get install wrk)");
        }

        bool haveTrace = File.Exists(context.DotnetTrace);
        // monitor (default: stacks sampled only while the pool lags), dotnet-trace's recipe, and monitor sampling throughout
        // (what it did before on-lag sampling, and what diagnose does): the sample profiler's cost is the difference.
        var configs = new List<Config> { new("alone", Attachment.None), new("monitor", Attachment.Monitor) };
        if (haveTrace)
        {
            configs.Add(new Config("dotnet-trace", Attachment.DotnetTrace));
        }

        configs.Add(new Config("monitor, sampling always", Attachment.Monitor, Args: ["--stack-sampling", "always"]));
        if (Environment.GetEnvironmentVariable(BeforeVariable) is { Length: > 0 } before)
        {
            if (!File.Exists(before))
            {
                return RowResult.Skip(this, $"{BeforeVariable}={before}: no such file");
            }

            configs.Add(new Config("monitor (before)", Attachment.Monitor, CliDll: before));
        }

        foreach (var variant in (Environment.GetEnvironmentVariable(VariantsVariable) ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // name@--cli --args
            var parts = variant.Split('@', 2);
            configs.Add(new Config("monitor " + parts[0], Attachment.Monitor, parts.Length == 2 ? parts[1].Split(' ', StringSplitOptions.RemoveEmptyEntries) : null));
        }

        var warmup = context.Smoke ? TimeSpan.Zero : TimeSpan.FromSeconds(2);
        var measure = context.Smoke ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(8);
        var idle = context.Smoke ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(3);
        // Four configurations per round: one round fewer than --pairs keeps the row near 6 minutes (each run ~25 s).
        int roundCount = context.Smoke ? context.Pairs : Math.Max(2, context.Pairs - 1);
        var rounds = new List<Run[]>();
        for (int i = 0; i < roundCount; i++)
        {
            // The starting configuration rotates round by round, so a drift in the machine's load does not always hit the same one.
            var runs = new Run[configs.Count];
            for (int k = 0; k < configs.Count; k++)
            {
                int c = (i + k) % configs.Count;
                runs[c] = await MeasureAsync(context, configs[c], warmup, measure, idle, cancellationToken);
            }

            context.Log($"P5: round {i + 1}: " + string.Join(" | ", configs.Select((c, k) =>
                $"{c.Name} {runs[k].Rps:F0} rps {runs[k].ServerCpuPerRequestUs(measure):F1} µs/req" + (k > 0 ? $" ({runs[k].Rps / runs[0].Rps:F3})" : "") +
                $" idle {runs[k].IdleServerCpuMsPerSecond:F1} ms/s" + (runs[k].Sampled ? " [sampled]" : ""))));
            rounds.Add(runs);
        }

        var stats = configs.Select((c, k) => new ConfigStats(
            c,
            Stats.Of(rounds.Select(r => r[k].Rps / r[0].Rps)),
            Stats.Of(rounds.Select(r => r[k].ServerCpuPerRequestUs(measure) / r[0].ServerCpuPerRequestUs(measure))),
            Stats.Of(rounds.Select(r => r[k].ServerCpuPerRequestUs(measure) - r[0].ServerCpuPerRequestUs(measure))),
            Stats.Of(rounds.Select(r => r[k].ServerCpuPerRequestUs(measure))),
            Stats.Of(rounds.Select(r => r[k].ToolCpuSeconds * 1000 / measure.TotalSeconds)),
            Stats.Of(rounds.Select(r => r[k].P99Ms / r[0].P99Ms)),
            Stats.Of(rounds.Select(r => r[k].Rps)),
            Stats.Of(rounds.Select(r => r[k].IdleServerCpuMsPerSecond)),
            Stats.Of(rounds.Select(r => r[k].IdleServerCpuMsPerSecond - r[0].IdleServerCpuMsPerSecond)),
            Stats.Of(rounds.Select(r => r[k].IdleToolCpuMsPerSecond)),
            rounds.Count(r => r[k].Sampled))).ToList();
        var monitor = stats[1];
        var trace = haveTrace ? stats[2] : (ConfigStats?)null;

        var section = new StringBuilder();
        section.AppendLine("Per run a fresh BlockingApp (agent embedded) and, when attached, the tool started on it and live before the load:");
        section.AppendLine("`loopdoctor monitor --process-id PID --refresh 1000ms --format json` (waits for its first live line) or");
        section.AppendLine("`dotnet-trace collect -p PID --clrevents waithandle --clreventlevel verbose -o …` (bench/.tools, waits for its output line).");
        if (configs.FirstOrDefault(c => c.CliDll is not null) is { } beforeConfig)
        {
            section.AppendLine($"`{beforeConfig.Name}`: the same monitor command with another build, `{beforeConfig.CliDll}` ({BeforeVariable}).");
        }

        section.AppendLine($"{warmup.TotalSeconds:0} s warm-up, then `wrk -t1 -c{Wrk.ConnectionsFor(context)} -d{measure.TotalSeconds:0}s --latency {{url}}{LoadPath}`; the configurations run in");
        section.AppendLine("turn, each round starting one further along. CPU from /proc/PID/stat over the measured wrk run (10 ms ticks):");
        section.AppendLine("the server's CPU per request, and the tool's own process (which runs on the same 2 cores). Then, in the same processes,");
        section.AppendLine($"{idle.TotalSeconds:0} s without load (after 1 s to settle): the server's CPU per second there is what the attached session costs by");
        section.AppendLine("itself, the steadiest figure on a shared machine (the sample profiler suspends the runtime every millisecond whatever the load).");
        section.AppendLine();
        section.AppendLine("| round | " + string.Join(" | ", configs.Select(c => $"{c.Name}: rps | µs/req")) + " |");
        section.AppendLine("|---:|" + string.Concat(configs.Select(_ => "---:|---:|")));
        for (int i = 0; i < rounds.Count; i++)
        {
            section.AppendLine($"| {i + 1} | " + string.Join(" | ", rounds[i].Select(r => $"{r.Rps:F0} | {r.ServerCpuPerRequestUs(measure):F1}{(r.Sampled ? "\\*" : "")}")) + " |");
        }

        section.AppendLine();
        if (rounds.Any(r => r.Any(x => x.Sampled)))
        {
            section.AppendLine();
            section.AppendLine("\\* the on-lag monitor started its sampler during that run (it saw a starvation injection or over 500 ms of lag).");
        }

        section.AppendLine();
        section.AppendLine($"| configuration | RPS ratio to alone | server CPU/request ratio | extra server CPU per request | tool CPU (saturated) | extra server CPU idle | tool CPU idle | p99 ratio |");
        section.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var s in stats.Skip(1))
        {
            section.AppendLine($"| {s.Config.Name}{(s.SampledRuns > 0 ? $" (sampler started in {s.SampledRuns} of {rounds.Count})" : "")} | " +
                               $"{s.RpsRatio.Format("0.000")} | {s.CpuRatio.Format("0.000")} | {s.ExtraCpuUs.Format("0.0", " µs")} | {s.ToolCpuMsPerSecond.Format("0", " ms/s")} | " +
                               $"{s.IdleExtraCpuMsPerSecond.Format("0.0", " ms/s")} | {s.IdleToolCpuMsPerSecond.Format("0", " ms/s")} | {s.P99Ratio.Format("0.00")} |");
        }

        section.AppendLine();
        section.AppendLine($"Alone: {stats[0].Rps.Format("0")} rps, {stats[0].CpuPerRequestUs.Format("0.0", " µs")} of server CPU per request; idle {stats[0].IdleServerCpuMsPerSecond.Format("0.0", " ms")} of CPU per second.");
        section.AppendLine();
        section.AppendLine($"**RPS ratio, monitor / alone** {monitor.RpsRatio.Format("0.000")}; server CPU per request {monitor.CpuRatio.Format("0.000")}.");
        section.AppendLine(trace is { } t
            ? $"**RPS ratio, dotnet-trace / alone** {t.RpsRatio.Format("0.000")}; server CPU per request {t.CpuRatio.Format("0.000")}."
            : "dotnet-trace is not installed (bench/.tools): the comparison is missing.");
        bool met = monitor.RpsRatio.Median >= 0.95 && (trace is null || monitor.RpsRatio.Median >= trace.Value.RpsRatio.Median - 0.01);
        section.AppendLine();
        section.AppendLine("\"No worse than dotnet-trace's\" allows 0.01 of noise between the two medians (the goal is judged on RPS, as the issue asks).");
        section.AppendLine();
        section.AppendLine(Interpret(monitor, trace, stats.FirstOrDefault(x => x.Config.Args is ["--stack-sampling", "always"])));
        return Result($"monitor {monitor.RpsRatio.Format("0.000")}; dotnet-trace {(trace is { } tr ? tr.RpsRatio.Format("0.000") : "n/a")}; CPU/request monitor {monitor.CpuRatio.Format("0.000")}" +
                      (trace is { } tc ? $", dotnet-trace {tc.CpuRatio.Format("0.000")}" : ""), met, section.ToString(), context);
    }

    private static string Interpret(ConfigStats monitor, ConfigStats? trace, ConfigStats always)
    {
        var text = new StringBuilder();
        text.Append("How to read it: the server is CPU-bound and shares 2 cores with wrk and the tool, so an attached tool's RPS ratio mixes what it");
        text.Append(" costs the target per request with what its own process takes from the cores; run-to-run RPS varies by several percent on this");
        text.Append(" shared machine. The server CPU per request measures the cost to the target itself.");
        if (trace is { } t)
        {
            text.Append($" Here the monitor adds {monitor.ExtraCpuUs.Median:0.0} µs of server CPU per request ({(monitor.CpuRatio.Median - 1) * 100:0.0}%),");
            text.Append($" dotnet-trace's waithandle recipe {t.ExtraCpuUs.Median:0.0} µs ({(t.CpuRatio.Median - 1) * 100:0.0}%);");
            text.Append($" the monitor's own process uses {monitor.ToolCpuMsPerSecond.Median:0} ms of CPU per second (it parses and resolves every event live),");
            text.Append($" dotnet-trace's {t.ToolCpuMsPerSecond.Median:0} ms (it copies the stream to a file).");
            if (monitor.RpsRatio.Min <= t.RpsRatio.Max && t.RpsRatio.Min <= monitor.RpsRatio.Max)
            {
                text.Append($" The two RPS ratios' ranges overlap ({monitor.RpsRatio.Min:0.000}–{monitor.RpsRatio.Max:0.000} and {t.RpsRatio.Min:0.000}–{t.RpsRatio.Max:0.000}):");
                text.Append(" a difference between their medians smaller than that is this machine's noise, not a cost; a negative extra CPU is noise too.");
            }
        }

        if (always.Config is not null)
        {
            text.Append($" With the sample profiler running throughout (`--stack-sampling always`, what `diagnose` does) the server pays");
            text.Append($" {always.ExtraCpuUs.Median:0.0} µs per request under load and {always.IdleExtraCpuMsPerSecond.Median:0.0} ms of CPU per second without load");
            text.Append($" (monitor on-lag: {monitor.ExtraCpuUs.Median:0.0} µs, {monitor.IdleExtraCpuMsPerSecond.Median:0.0} ms/s), and the tool {always.ToolCpuMsPerSecond.Median:0} ms/s under load:");
            text.Append(" the profiler suspends the runtime every millisecond and sends a stack per managed thread, which the tool must resolve live.");
            text.Append(" That is why `monitor` samples only while the pool lags (docs/cli.md): no sampling session can match dotnet-trace's");
            text.Append(" waithandle recipe, which has no profiler.");
        }

        return text.ToString();
    }

    private enum Attachment { None, Monitor, DotnetTrace }

    private sealed record Config(string Name, Attachment Attachment, string[]? Args = null, string? CliDll = null);

    private readonly record struct ConfigStats(Config Config, Stats RpsRatio, Stats CpuRatio, Stats ExtraCpuUs, Stats CpuPerRequestUs, Stats ToolCpuMsPerSecond, Stats P99Ratio, Stats Rps,
        Stats IdleServerCpuMsPerSecond, Stats IdleExtraCpuMsPerSecond, Stats IdleToolCpuMsPerSecond, int SampledRuns);

    /// <summary>One wrk run, the server's CPU during it and the attached tool's; then the idle phase's CPU per second.</summary>
    private readonly record struct Run(WrkResult Wrk, double ServerCpuSeconds, double ToolCpuSeconds, double IdleServerCpuMsPerSecond, double IdleToolCpuMsPerSecond, bool Sampled)
    {
        public double Rps => Wrk.RequestsPerSecond;
        public double P99Ms => Wrk.P99Milliseconds;
        public double ServerCpuPerRequestUs(TimeSpan measure) => ServerCpuSeconds * 1e6 / (Wrk.RequestsPerSecond * measure.TotalSeconds);
    }

    private static async Task<Run> MeasureAsync(BenchContext context, Config config, TimeSpan warmup, TimeSpan measure, TimeSpan idle, CancellationToken cancellationToken)
    {
        using var app = await BlockingAppHost.StartAsync(context, agent: true, cancellationToken);
        ChildProcess? tool = null;
        var tracePath = Path.Combine(context.WorkDirectory, $"p5-{app.Pid}.nettrace");
        try
        {
            switch (config.Attachment)
            {
                case Attachment.Monitor:
                    tool = await Cli.StartMonitorAsync(context, app.Pid, TimeSpan.FromSeconds(1), cancellationToken,
                        null, config.Args, config.CliDll);
                    break;
                case Attachment.DotnetTrace:
                    tool = ChildProcess.Start(context.DotnetTrace,
                        ["collect", "-p", app.Pid.ToString(CultureInfo.InvariantCulture), "--clrevents", "waithandle", "--clreventlevel", "verbose", "-o", tracePath]);
                    await tool.WaitForLineAsync(l => l.Contains("Output File", StringComparison.OrdinalIgnoreCase) || l.Contains("Recording", StringComparison.OrdinalIgnoreCase),
                        TimeSpan.FromSeconds(60), cancellationToken);
                    break;
            }

            if (warmup > TimeSpan.Zero)
            {
                await Wrk.RunAsync(context, app.Url + LoadPath, warmup, cancellationToken);
            }

            double serverBefore = ProcStat.ProcessCpuSeconds(app.Pid), toolBefore = tool is null ? 0 : ProcStat.ProcessCpuSeconds(tool.Id);
            var result = await Wrk.RunAsync(context, app.Url + LoadPath, measure, cancellationToken);
            if (tool is { HasExited: true })
            {
                throw new BenchException($"{tool.Display} exited during the measurement:\n{tool.Tail(10)}");
            }

            double server = ProcStat.ProcessCpuSeconds(app.Pid) - serverBefore, toolCpu = tool is null ? 0 : ProcStat.ProcessCpuSeconds(tool.Id) - toolBefore;

            // No load: what the attached session costs the server by itself, per second (the sample profiler suspends the
            // runtime every millisecond whatever the load; metrics and the agent publish every second).
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);   // past wrk's tail
            double serverStart = ProcStat.ProcessCpuSeconds(app.Pid), toolStart = tool is null ? 0 : ProcStat.ProcessCpuSeconds(tool.Id);
            await Task.Delay(idle, cancellationToken);
            double idleServer = (ProcStat.ProcessCpuSeconds(app.Pid) - serverStart) * 1000 / idle.TotalSeconds;
            double idleTool = tool is null ? 0 : (ProcStat.ProcessCpuSeconds(tool.Id) - toolStart) * 1000 / idle.TotalSeconds;
            bool sampled = tool is not null && tool.Lines.Any(l => l.Line.Contains("the pool is in trouble", StringComparison.Ordinal));
            return new Run(result, server, toolCpu, idleServer, idleTool, sampled);
        }
        finally
        {
            if (tool is not null)
            {
                tool.Interrupt();
                await tool.WaitForExitAsync(TimeSpan.FromSeconds(15));
                tool.Dispose();
            }

            File.Delete(tracePath);
        }
    }
}
