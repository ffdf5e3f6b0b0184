using System.Diagnostics.Tracing;
using System.Text;
using LoopDoctor.Bench.Infrastructure;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;

namespace LoopDoctor.Bench.Rows;

/// <summary>
/// P10: what the TPL's task events cost the target. The CLI reads them (what a <c>.Result</c> waits for) in a session of
/// their own without stacks, in bursts once a pool thread blocks on a task; enabling TplEventSource at all moves every
/// await in the target onto the runtime's traced path. <c>/healthy</c> at saturation in a fresh BlockingApp (no agent), alone vs with that
/// session attached, alternating; the session is the CLI's (<c>SessionProviders.CreateTaskEvents</c>, read as it reads it).
/// </summary>
internal sealed class TaskEventsCostRow : BenchRow
{
    // As the CLI's SessionProviders.CreateTaskEvents: TaskTransfer | Tasks | AsyncCausalityOperation, Informational.
    private const string TplProvider = "System.Threading.Tasks.TplEventSource";
    private const long TplKeywords = 0x0B;

    public override string Id => "P10";
    public override string What => "host cost of the task events (/healthy: alone vs the stackless TplEventSource session the CLI opens in bursts)";
    public override string Title => "Host cost of the task events";
    public override string Goal => "RPS ratio ≥ 0.95";

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

        var warmup = context.Smoke ? TimeSpan.Zero : TimeSpan.FromSeconds(3);
        var measure = context.Smoke ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(8);
        var rounds = new List<(Run Alone, Run Traced)>();
        for (int i = 0; i < context.Pairs; i++)
        {
            // A B, then B A: a drift in the machine's load does not always hit the same one.
            Run alone, traced;
            if (i % 2 == 0)
            {
                alone = await MeasureAsync(context, false, warmup, measure, cancellationToken);
                traced = await MeasureAsync(context, true, warmup, measure, cancellationToken);
            }
            else
            {
                traced = await MeasureAsync(context, true, warmup, measure, cancellationToken);
                alone = await MeasureAsync(context, false, warmup, measure, cancellationToken);
            }

            context.Log($"P10: pair {i + 1}: alone {alone.Rps:F0} rps {alone.CpuPerRequestUs:F1} µs/req | task events {traced.Rps:F0} rps {traced.CpuPerRequestUs:F1} µs/req " +
                        $"({traced.Rps / alone.Rps:F3}), {traced.EventsPerRequest:F1} events/req");
            rounds.Add((alone, traced));
        }

        var rps = Stats.Of(rounds.Select(r => r.Traced.Rps / r.Alone.Rps));
        var cpu = Stats.Of(rounds.Select(r => r.Traced.CpuPerRequestUs / r.Alone.CpuPerRequestUs));
        var extra = Stats.Of(rounds.Select(r => r.Traced.CpuPerRequestUs - r.Alone.CpuPerRequestUs));
        var events = Stats.Of(rounds.Select(r => r.Traced.EventsPerRequest));
        var section = new StringBuilder();
        section.AppendLine("Per run a fresh BlockingApp (`--no-agent`); with task events, a session with only `System.Threading.Tasks.TplEventSource`");
        section.AppendLine($"(keywords 0x{TplKeywords:X}, Informational, `requestStackwalk: false`, no rundown) started before the load and read with");
        section.AppendLine($"TraceEvent's EventPipeEventSource. {warmup.TotalSeconds:0} s warm-up, then `wrk -t1 -c{Wrk.ConnectionsFor(context)} -d{measure.TotalSeconds:0}s --latency {{url}}/healthy`;");
        section.AppendLine("server CPU from /proc/PID/stat over the measured run. Pairs alternate which runs first.");
        section.AppendLine();
        section.AppendLine("| pair | alone: rps | µs/req | task events: rps | µs/req | events/req |");
        section.AppendLine("|---:|---:|---:|---:|---:|---:|");
        for (int i = 0; i < rounds.Count; i++)
        {
            var (a, t) = rounds[i];
            section.AppendLine($"| {i + 1} | {a.Rps:F0} | {a.CpuPerRequestUs:F1} | {t.Rps:F0} | {t.CpuPerRequestUs:F1} | {t.EventsPerRequest:F1} |");
        }

        section.AppendLine();
        section.AppendLine($"**RPS ratio** {rps.Format("0.000")}; server CPU per request {cpu.Format("0.000")} ({extra.Format("0.0", " µs")} more); {events.Format("0.0")} task events per request.");
        section.AppendLine();
        section.AppendLine("How to read it: `/healthy` awaits little, so a request's extra cost is a few task events and the traced await path; an");
        section.AppendLine("endpoint with many awaits pays per await. That is why the CLI never keeps this session open: it opens it for 5 s when a");
        section.AppendLine("pool thread blocks on a task (`.Result`, `.Wait()`, `GetResult()`), at most once a minute, so a service that never blocks");
        section.AppendLine("on a task never pays it, and one that does pays it for the few seconds that name what its waits wait for.");
        return Result($"RPS ratio {rps.Format("0.000")}; CPU/request {cpu.Format("0.000")}", rps.Median >= 0.95, section.ToString(), context);
    }

    private readonly record struct Run(double Rps, double CpuPerRequestUs, double EventsPerRequest);

    private static async Task<Run> MeasureAsync(BenchContext context, bool taskEvents, TimeSpan warmup, TimeSpan measure, CancellationToken cancellationToken)
    {
        using var app = await BlockingAppHost.StartAsync(context, agent: false, cancellationToken);
        EventPipeSession? session = null;
        Task? reading = null;
        long events = 0;
        try
        {
            if (taskEvents)
            {
                var providers = new[] { new EventPipeProvider(TplProvider, EventLevel.Informational, TplKeywords) };
                session = new DiagnosticsClient(app.Pid).StartEventPipeSession(new EventPipeSessionConfiguration(providers, 16, requestRundown: false, requestStackwalk: false));
                var source = new EventPipeEventSource(session.EventStream);
                source.AllEvents += _ => Interlocked.Increment(ref events);
                reading = Task.Factory.StartNew(() => source.Process(), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            }

            if (warmup > TimeSpan.Zero)
            {
                await Wrk.RunAsync(context, app.Url + "/healthy", warmup, cancellationToken);
            }

            var before = ProcStat.ProcessCpuSeconds(app.Pid);
            var eventsBefore = Interlocked.Read(ref events);
            var result = await Wrk.RunAsync(context, app.Url + "/healthy", measure, cancellationToken);
            var cpu = ProcStat.ProcessCpuSeconds(app.Pid) - before;
            var requests = result.RequestsPerSecond * measure.TotalSeconds;
            return new Run(result.RequestsPerSecond, cpu * 1e6 / requests, (Interlocked.Read(ref events) - eventsBefore) / requests);
        }
        finally
        {
            if (session is not null)
            {
                try
                {
                    await session.StopAsync(cancellationToken);
                }
                catch (Exception ex) when (ex is IOException or ServerNotAvailableException or TimeoutException)
                {
                    // The process is about to be disposed anyway.
                }

                if (reading is not null)
                {
                    await Task.WhenAny(reading, Task.Delay(TimeSpan.FromSeconds(10), cancellationToken));
                }

                session.Dispose();
            }
        }
    }
}
