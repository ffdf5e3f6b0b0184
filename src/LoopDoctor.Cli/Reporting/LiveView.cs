using System.Globalization;
using LoopDoctor.Cli.CommandLine;
using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Runs;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace LoopDoctor.Cli.Reporting;

/// <summary>
/// The live view of monitor and run: every refresh, the verdict, pool and top culprits. In a terminal (monitor) a
/// Spectre.Console table redrawn in place, with sparklines of the last two minutes (queue delay, pool threads,
/// injections); otherwise one grep-able line per refresh on stderr, after <paramref name="prefix"/>.
/// </summary>
internal sealed class LiveView(TimeSpan refresh, CliConsole console, bool table, string prefix = "") : IRunObserver
{
    private static readonly TimeSpan MinimumRefresh = TimeSpan.FromMilliseconds(100);

    /// <summary>How far back the sparklines look.</summary>
    private const double RecentSeconds = 120;

    private const int SparklineWidth = 60;

    public async Task WatchAsync(RunView run, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(refresh < MinimumRefresh ? MinimumRefresh : refresh);
        if (table && console.IsInteractive)
        {
            var view = new Table().Border(TableBorder.Rounded).AddColumns("", "").HideHeaders();
            await AnsiConsole.Live(view).StartAsync(async context =>
            {
                while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
                {
                    Fill(view, run.Snapshot());
                    context.Refresh();
                }
            }).ConfigureAwait(false);
            return;
        }

        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            await console.Error.WriteLineAsync(prefix + FormatLine(run.Snapshot())).ConfigureAwait(false);
        }
    }

    private static void Fill(Table table, DiagnosisReport r)
    {
        var inv = CultureInfo.InvariantCulture;
        var pool = r.ThreadPool;
        table.Rows.Clear();
        table.Title = new TableTitle($"loopdoctor monitor: {r.Target.ProcessName} (pid {r.Target.ProcessId}), Ctrl+C for the diagnosis");
        var verdictColor = r.Verdict switch { Verdict.Starving => "red", Verdict.Degraded => "yellow", _ => "green" };
        table.AddRow(new Text("Verdict"), new Markup($"[{verdictColor}]{r.Verdict.Name()}[/] after {DurationText.FromSeconds(r.DurationSeconds)}, agent {r.Agent.Name()}"));
        table.AddRow(new Text(""), new Text(r.Summary));
        var recent = Recent(r.Timeline);
        var seconds = recent.Count * (r.Timeline?.BucketSeconds ?? 1);
        table.AddRow(new Text("Queue delay"), Lines(
            pool.QueueDelayMilliseconds is { } d ? d.Describe() : "n/a (no agent)",
            Spark(recent, seconds, p => p.QueueDelayMaxMs, "worst per second", " ms", Color.Orange1)));
        table.AddRow(new Text("Pool threads"), Lines(
            $"now {pool.ThreadCountLast.ToString(inv)}, max {pool.ThreadCountMax.ToString(inv)}; queue length max {pool.QueueLengthMax.ToString(inv)}",
            Spark(recent, seconds, p => p.ThreadCount, "threads", "", Color.Green)));
        table.AddRow(new Text("Injections"), Lines(
            $"{pool.Injections.Starvation} starvation, {pool.Injections.CooperativeBlocking} cooperative blocking",
            Spark(recent, seconds, p => p.StarvationInjections + p.CooperativeBlockingInjections, "injections", "", Color.Red)));
        foreach (var f in r.Findings.Take(5))
        {
            var color = f.Severity switch { Severity.Critical => "red", Severity.Warning => "yellow", _ => "grey" };
            var site = f.CallSites.Count > 0 ? $" at {f.CallSites[0].Describe()}" : "";
            table.AddRow(new Markup($"[{color}]{f.Kind}[/]"), new Text($"{f.Count.ToString(inv)}x, {DurationText.FromMilliseconds(f.TotalMilliseconds)}{site}"));
        }
    }

    /// <summary>The timeline's points of the last <see cref="RecentSeconds"/>.</summary>
    private static IReadOnlyList<TimelinePoint> Recent(ReportTimeline? timeline)
    {
        if (timeline is null)
        {
            return [];
        }

        var count = (int)Math.Ceiling(RecentSeconds / timeline.BucketSeconds);
        return timeline.Points.Skip(Math.Max(0, timeline.Points.Count - count)).ToList();
    }

    private static IRenderable Lines(string summary, IRenderable? sparkline) =>
        sparkline is null ? new Text(summary) : new Rows(new Text(summary), sparkline);

    private static IRenderable? Spark(IReadOnlyList<TimelinePoint> points, double seconds, Func<TimelinePoint, double?> value, string what, string unit, Color color)
    {
        var values = points.Select(value).ToList();
        if (values.All(v => v is null))
        {
            return null;
        }

        var max = values.Max() ?? 0;
        // Durations by the one rule (DurationText); counts as they are.
        var peak = unit == " ms" ? DurationText.FromMilliseconds(max) : max.ToString("0.#", CultureInfo.InvariantCulture) + unit;
        var label = $" last {DurationText.FromSeconds(seconds)}, {what}, peak {peak}";
        return new Paragraph().Append(Sparkline.Of(values, SparklineWidth), new Style(color)).Append(label, new Style(Color.Grey));
    }

    /// <summary>One line per refresh: grep-able, no terminal control codes.</summary>
    internal static string FormatLine(DiagnosisReport r)
    {
        var inv = CultureInfo.InvariantCulture;
        var pool = r.ThreadPool;
        var delay = pool.QueueDelayMilliseconds is { } d
            ? $"delay p50={Compact(d.P50)} p99={Compact(d.P99)} max={Compact(d.Max)}" + (d.MaxSource == QueueDelayMaxSource.WaitingProbe ? "(waiting)" : "")
            : "delay=n/a";
        var top = r.Findings.FirstOrDefault(f => f.Severity >= Severity.Warning);
        var culprit = top is null ? "no problem" : $"{top.Kind}" + (top.CallSites.Count > 0 ? $" at {top.CallSites[0].Describe()} ({top.Count}x)" : $" ({top.Count})");
        // t= is a clock (seconds since attaching, one decimal: tests and scripts match it), not a duration to read.
        return $"t={r.DurationSeconds.ToString("0.0", inv)}s {r.Verdict.Name()} threads={pool.ThreadCountMax} queue.max={pool.QueueLengthMax} {delay} " +
               $"injections starvation={pool.Injections.Starvation} cooperative={pool.Injections.CooperativeBlocking} | {culprit}";
    }

    // key=value stays one token: "7.1s", "n/a" when no probe ran.
    private static string Compact(double? milliseconds) => milliseconds is { } ms ? DurationText.FromMilliseconds(ms).Replace(" ", "", StringComparison.Ordinal) : "n/a";
}
