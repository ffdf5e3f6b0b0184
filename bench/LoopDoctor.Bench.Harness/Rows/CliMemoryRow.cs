using System.Diagnostics;
using System.Globalization;
using System.Text;
using LoopDoctor.Bench.Infrastructure;

namespace LoopDoctor.Bench.Rows;

/// <summary>
/// P7: <c>loopdoctor monitor</c> on a busy, blocking BlockingApp for 10 minutes; the CLI's RSS read from
/// /proc/PID/status every second. Not part of CI: <c>--smoke</c> runs it for seconds only when named with <c>--only</c>.
/// </summary>
internal sealed class CliMemoryRow : BenchRow
{
    /// <summary>"Flat": the least-squares slope of RSS after the first minute, per minute.</summary>
    private const double FlatMegabytesPerMinute = 1.0;

    public override string Id => "P7";
    public override string What => "CLI memory (`monitor` on a busy blocking target)";
    public override string Title => "CLI memory";
    public override string Goal => "peak RSS ≤ 150 MB; flat after the first minute (slope ≤ 1 MB/min)";
    public override bool InSmoke => false;

    public override async Task<RowResult> RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        if ((context.MissingCli ?? context.MissingBlockingApp) is { } missing)
        {
            return RowResult.Skip(this, missing);
        }

        using var app = await BlockingAppHost.StartAsync(context, agent: true, cancellationToken);
        using var broken = OpenLoopLoad.Start(app.Url + "/sync-over-async", 40);
        using var healthy = OpenLoopLoad.Start(app.Url + "/healthy", 100);
        using var monitor = await Cli.StartMonitorAsync(context, app.Pid, TimeSpan.FromSeconds(1), cancellationToken);
        var samples = new List<(double Seconds, double Megabytes)>();
        var clock = Stopwatch.StartNew();
        using var tick = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (clock.Elapsed < context.MemoryDuration && await tick.WaitForNextTickAsync(cancellationToken))
        {
            if (monitor.HasExited)
            {
                throw new BenchException($"monitor exited after {clock.Elapsed.TotalSeconds:F0} s:\n{monitor.Tail(10)}");
            }

            samples.Add((clock.Elapsed.TotalSeconds, ReadKb(monitor.Id, "VmRSS") / 1024.0));
            if (samples.Count % 60 == 0)
            {
                context.Log($"P7: {clock.Elapsed.TotalMinutes:F0} min: RSS {samples[^1].Megabytes:F1} MB");
            }
        }

        double hwm = ReadKb(monitor.Id, "VmHWM") / 1024.0;
        long liveLines = monitor.Lines.Count(l => Cli.IsLiveLine(l.Line));
        monitor.Interrupt();
        await monitor.WaitForExitAsync(TimeSpan.FromSeconds(15));

        double peak = Math.Max(hwm, samples.Max(s => s.Megabytes));
        var after = samples.Where(s => s.Seconds >= 60).ToList();
        double slope = after.Count >= 10 ? Slope(after) : double.NaN;
        var section = new StringBuilder();
        section.AppendLine($"BlockingApp (agent embedded) under `/sync-over-async` at 40 rps + `/healthy` at 100 rps (open loop from the harness);");
        section.AppendLine($"`loopdoctor monitor --process-id PID --refresh 1000ms --format json` attached for {context.MemoryDuration.TotalMinutes:0.#} min; RSS of the CLI");
        section.AppendLine($"process (`VmRSS` in /proc/PID/status) every second; peak = max(samples, `VmHWM`). {liveLines} live lines received; load sent {broken.Sent + healthy.Sent} requests.");
        section.AppendLine();
        section.AppendLine("| minute | " + string.Join(" | ", Minutes(samples).Select(m => m.Minute.ToString(CultureInfo.InvariantCulture))) + " |");
        section.AppendLine("|---|" + string.Concat(Minutes(samples).Select(_ => "---:|")));
        section.AppendLine("| RSS at end of minute (MB) | " + string.Join(" | ", Minutes(samples).Select(m => m.Megabytes.ToString("0.0", CultureInfo.InvariantCulture))) + " |");
        section.AppendLine();
        section.AppendLine($"**Peak RSS** {peak:0.0} MB; **slope after the first minute** {(double.IsNaN(slope) ? "n/a (run shorter than 70 s)" : $"{slope:+0.00;-0.00} MB/min")}.");
        bool met = peak <= 150 && !double.IsNaN(slope) && slope <= FlatMegabytesPerMinute;
        return Result($"peak {peak:0.0} MB; slope {(double.IsNaN(slope) ? "n/a" : $"{slope:+0.00;-0.00} MB/min")}", met, section.ToString(), context);
    }

    private static IEnumerable<(int Minute, double Megabytes)> Minutes(List<(double Seconds, double Megabytes)> samples) =>
        samples.GroupBy(s => (int)(s.Seconds / 60) + 1).Select(g => (g.Key, g.Last().Megabytes));

    private static double Slope(List<(double Seconds, double Megabytes)> points)
    {
        double mx = points.Average(p => p.Seconds / 60), my = points.Average(p => p.Megabytes);
        double num = points.Sum(p => (p.Seconds / 60 - mx) * (p.Megabytes - my));
        double den = points.Sum(p => (p.Seconds / 60 - mx) * (p.Seconds / 60 - mx));
        return den == 0 ? 0 : num / den;
    }

    private static long ReadKb(int pid, string key)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith(key + ":", StringComparison.Ordinal))
            {
                return long.Parse(line[(key.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }

        throw new BenchException($"/proc/{pid}/status has no {key}");
    }
}
