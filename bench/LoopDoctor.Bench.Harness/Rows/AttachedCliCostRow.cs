using System.Text;
using LoopDoctor.Bench.Infrastructure;

namespace LoopDoctor.Bench.Rows;

/// <summary>
/// P5: <c>/healthy</c> at saturation alone vs with <c>loopdoctor monitor</c> attached vs with
/// <c>dotnet-trace collect --clrevents waithandle --clreventlevel verbose</c>, rotating in fresh processes.
/// </summary>
internal sealed class AttachedCliCostRow : BenchRow
{
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
        var warmup = context.Smoke ? TimeSpan.Zero : TimeSpan.FromSeconds(5);
        var measure = context.Smoke ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(15);
        var rounds = new List<(WrkResult Alone, WrkResult Monitor, WrkResult? Trace)>();
        for (int i = 0; i < context.Pairs; i++)
        {
            var alone = await MeasureAsync(context, Attachment.None, warmup, measure, cancellationToken);
            var monitor = await MeasureAsync(context, Attachment.Monitor, warmup, measure, cancellationToken);
            WrkResult? trace = haveTrace ? await MeasureAsync(context, Attachment.DotnetTrace, warmup, measure, cancellationToken) : null;
            context.Log($"P5: round {i + 1}: alone {alone.RequestsPerSecond:F0} rps | monitor {monitor.RequestsPerSecond:F0} rps ({monitor.RequestsPerSecond / alone.RequestsPerSecond:F3})" +
                        (trace is { } t ? $" | dotnet-trace {t.RequestsPerSecond:F0} rps ({t.RequestsPerSecond / alone.RequestsPerSecond:F3})" : ""));
            rounds.Add((alone, monitor, trace));
        }

        var monitorRatio = Stats.Of(rounds.Select(r => r.Monitor.RequestsPerSecond / r.Alone.RequestsPerSecond));
        var traceRatio = Stats.Of(rounds.Where(r => r.Trace is not null).Select(r => r.Trace!.Value.RequestsPerSecond / r.Alone.RequestsPerSecond));
        var monitorP99 = Stats.Of(rounds.Select(r => r.Monitor.P99Milliseconds / r.Alone.P99Milliseconds));
        var traceP99 = Stats.Of(rounds.Where(r => r.Trace is not null).Select(r => r.Trace!.Value.P99Milliseconds / r.Alone.P99Milliseconds));

        var section = new StringBuilder();
        section.AppendLine("Per run a fresh BlockingApp (agent embedded) and, when attached, the tool started on it and live before the load:");
        section.AppendLine("`loopdoctor monitor --process-id PID --refresh 1000ms --format json` (waits for its first live line) or");
        section.AppendLine("`dotnet-trace collect -p PID --clrevents waithandle --clreventlevel verbose -o …` (bench/.tools, waits for its output line).");
        section.AppendLine($"{warmup.TotalSeconds:0} s warm-up, then `wrk -t1 -c{Wrk.ConnectionsFor(context)} -d{measure.TotalSeconds:0}s --latency {{url}}/healthy`. Order per round: alone, monitor, dotnet-trace.");
        section.AppendLine();
        section.AppendLine("| round | alone rps | monitor rps | ratio | dotnet-trace rps | ratio |");
        section.AppendLine("|---:|---:|---:|---:|---:|---:|");
        for (int i = 0; i < rounds.Count; i++)
        {
            var (alone, monitor, trace) = rounds[i];
            section.AppendLine($"| {i + 1} | {alone.RequestsPerSecond:F0} | {monitor.RequestsPerSecond:F0} | {monitor.RequestsPerSecond / alone.RequestsPerSecond:F3} | " +
                               (trace is { } t ? $"{t.RequestsPerSecond:F0} | {t.RequestsPerSecond / alone.RequestsPerSecond:F3} |" : "— | — |"));
        }

        section.AppendLine();
        section.AppendLine($"**RPS ratio, monitor / alone** {monitorRatio.Format("0.000")}; p99 ratio {monitorP99.Format("0.000")}.");
        section.AppendLine(haveTrace
            ? $"**RPS ratio, dotnet-trace / alone** {traceRatio.Format("0.000")}; p99 ratio {traceP99.Format("0.000")}."
            : "dotnet-trace is not installed (bench/.tools): the comparison is missing.");
        bool met = monitorRatio.Median >= 0.95 && (!haveTrace || monitorRatio.Median >= traceRatio.Median - 0.01);
        section.AppendLine();
        section.AppendLine("\"No worse than dotnet-trace's\" allows 0.01 of noise between the two medians.");
        return Result($"monitor {monitorRatio.Format("0.000")}; dotnet-trace {traceRatio.Format("0.000")}", met, section.ToString(), context);
    }

    private enum Attachment { None, Monitor, DotnetTrace }

    private static async Task<WrkResult> MeasureAsync(BenchContext context, Attachment attachment, TimeSpan warmup, TimeSpan measure, CancellationToken cancellationToken)
    {
        using var app = await BlockingAppHost.StartAsync(context, agent: true, cancellationToken);
        ChildProcess? tool = null;
        var tracePath = Path.Combine(context.WorkDirectory, $"p5-{app.Pid}.nettrace");
        try
        {
            switch (attachment)
            {
                case Attachment.Monitor:
                    tool = await Cli.StartMonitorAsync(context, app.Pid, TimeSpan.FromSeconds(1), cancellationToken);
                    break;
                case Attachment.DotnetTrace:
                    tool = ChildProcess.Start(context.DotnetTrace,
                        ["collect", "-p", app.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "--clrevents", "waithandle", "--clreventlevel", "verbose", "-o", tracePath]);
                    await tool.WaitForLineAsync(l => l.Contains("Output File", StringComparison.OrdinalIgnoreCase) || l.Contains("Recording", StringComparison.OrdinalIgnoreCase),
                        TimeSpan.FromSeconds(60), cancellationToken);
                    break;
            }

            if (warmup > TimeSpan.Zero)
        {
            await Wrk.RunAsync(context, app.Url + "/healthy", warmup, cancellationToken);
        }

            var result = await Wrk.RunAsync(context, app.Url + "/healthy", measure, cancellationToken);
            if (tool is { HasExited: true })
            {
                throw new BenchException($"{tool.Display} exited during the measurement:\n{tool.Tail(10)}");
            }

            return result;
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
