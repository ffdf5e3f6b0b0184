using System.Diagnostics;
using System.Text;
using LoopDoctor.Bench.Infrastructure;

namespace LoopDoctor.Bench.Rows;

/// <summary>
/// P4: BlockingApp serves healthy traffic with <c>loopdoctor monitor</c> attached; at a logged instant the load switches
/// to <c>/sync-over-async</c>; the figure is the time from that instant to the first live line with a starvation or
/// blocking verdict.
/// </summary>
internal sealed class DetectionLatencyRow : BenchRow
{
    private const double HealthyRps = 20;
    private const double BrokenRps = 100;   // BlockingApp README: sync-over-async collapses the pool from ~80 rps on 2 cores
    private static readonly TimeSpan Refresh = TimeSpan.FromMilliseconds(100);

    public override string Id => "P4";
    public override string What => "detection latency (sync-over-async onset → first starvation verdict in `monitor`)";
    public override string Title => "Detection latency";
    public override string Goal => "median ≤ 1 s from onset";

    public override async Task<RowResult> RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        if ((context.MissingCli ?? context.MissingBlockingApp) is { } missing)
        {
            return RowResult.Skip(this, missing);
        }

        int runs = context.Smoke ? 1 : Math.Max(5, context.Runs);
        var healthyPhase = context.Smoke ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(5);
        var latencies = new List<double>();
        var notes = new List<string>();
        for (int run = 0; run < runs; run++)
        {
            using var app = await BlockingAppHost.StartAsync(context, agent: true, cancellationToken);
            using var monitor = await Cli.StartMonitorAsync(context, app.Pid, Refresh, cancellationToken);
            using (OpenLoopLoad.Start(app.Url + "/healthy", HealthyRps))
            {
                await Task.Delay(healthyPhase, cancellationToken);
            }

            var falseAlarm = monitor.Lines.FirstOrDefault(l => Cli.IsStarvationVerdict(l.Line));
            if (falseAlarm.Line is not null)
            {
                notes.Add($"run {run + 1}: verdict before onset: `{falseAlarm.Line}`");
            }

            using var broken = OpenLoopLoad.Start(app.Url + "/sync-over-async", BrokenRps);
            long onset = broken.FirstSentAt;
            context.Log($"P4: run {run + 1}: onset (first /sync-over-async request sent) at t={Stopwatch.GetElapsedTime(onset).TotalSeconds:F3}s ago");
            var (at, line) = await monitor.WaitForLineAsync(Cli.IsStarvationVerdict, TimeSpan.FromSeconds(30), cancellationToken, since: onset);
            double seconds = Stopwatch.GetElapsedTime(onset, at).TotalSeconds;

            context.Log($"P4: run {run + 1}: detected after {seconds:F3} s: {line}");
            latencies.Add(seconds);
            monitor.Interrupt();
            await monitor.WaitForExitAsync(TimeSpan.FromSeconds(10));
        }

        var stats = Stats.Of(latencies);
        var section = new StringBuilder();
        section.AppendLine($"Per run: a fresh BlockingApp (agent embedded), `loopdoctor monitor --process-id PID --refresh {Refresh.TotalMilliseconds:0}ms --format json` attached");
        section.AppendLine($"(waits for its first live line), {healthyPhase.TotalSeconds:0} s of `/healthy` at {HealthyRps} rps (open loop from the harness), then the load switches to");
        section.AppendLine($"`/sync-over-async` at {BrokenRps} rps. Onset = the instant the harness sends the first broken request (logged); detection = the");
        section.AppendLine("arrival of the first live line whose verdict is starving or that names a thread-pool-starvation / blocking-wait finding\n(not `degraded` from high-lag alone: a warming-up app shows that without any blocking).");
        section.AppendLine($"The live view refreshes every {Refresh.TotalMilliseconds:0} ms, so the figure has that granularity.");
        section.AppendLine();
        section.AppendLine($"| run | {string.Join(" | ", latencies.Select((_, i) => (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)))} |");
        section.AppendLine($"|---|{string.Concat(latencies.Select(_ => "---:|"))}");
        section.AppendLine($"| detection (s) | {string.Join(" | ", latencies.Select(l => l.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)))} |");
        section.AppendLine();
        section.AppendLine($"**Detection latency** {stats.Format("0.00", " s")}.");
        foreach (var note in notes)
        {
            section.AppendLine($"- {note}");
        }

        return Result($"{stats.Format("0.00", " s")}", stats.Median <= 1.0 && notes.Count == 0, section.ToString(), context);
    }
}
