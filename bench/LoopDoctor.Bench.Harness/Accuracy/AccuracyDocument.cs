using System.Text;
using LoopDoctor.Testing;

namespace LoopDoctor.Bench.Accuracy;

/// <summary>Renders docs/accuracy.md: the matrix, what each cell named, and what the JIT did to each culprit.</summary>
internal static class AccuracyDocument
{
    public static string Render(IReadOnlyList<CellResult> cells, IReadOnlyDictionary<(int Runtime, string Scenario), TieringReport> tiering,
        string commandLine, string machine, TimeSpan sessionLength, TimeSpan warmUp)
    {
        var runtimes = cells.Select(c => c.Runtime).Distinct().ToList();
        var md = new StringBuilder();
        md.AppendLine("# Accuracy: what LoopDoctor names on real code").AppendLine();
        md.AppendLine("Written by `./bench/accuracy.sh` (do not edit by hand; rerun it). Each cell is one real diagnosis of");
        md.AppendLine("`samples/BlockingApp` under its own load, judged against the right answer written in");
        md.AppendLine("`bench/LoopDoctor.Bench.Harness/Accuracy/RightAnswer.cs`: the finding kind, and the culprit method or the endpoint.").AppendLine();
        md.AppendLine($"- Command: `{commandLine}`; machine: {machine}; measured {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC.");
        md.AppendLine($"- **At start**: a fresh target per cell, read as soon as it is ready. **After warm-up**: one target per scenario, under load for {warmUp.TotalSeconds:0} s while its JIT is watched (`TieringWatch`: the runtime's JIT and JIT-tracing events), then read three times in a row: `--no-inject`, offline, live.");
        md.AppendLine($"- **Live**: `loopdoctor diagnose -p PID --duration {sessionLength.TotalSeconds:0}s` (the target runs `--no-agent`, so the agent is injected). **Offline**: `dotnet-trace collect -p PID --clrevents waithandle+threading+contention --clreventlevel verbose --duration {sessionLength.TotalSeconds:0}s`, then `loopdoctor analyze`. **--no-inject**: `diagnose --no-inject`, EventPipe only.");
        md.AppendLine($"- **Runtimes**: {string.Join("; ", runtimes.Select(r => RuntimeLine(r, cells)))}. .NET 8 and 9 are not installed here: BlockingApp is published self-contained for them (`dotnet publish samples/BlockingApp -c Release -p:BlockingAppTargetFramework=net8.0 -r linux-x64 --self-contained`, the runtime packs from NuGet), the same code, and gets the after-warm-up columns only (a service one attaches to has been running; the three reads share one target, which keeps the run near half an hour); \"—\" = not run on that runtime.");
        md.AppendLine("- ✓ = the right kind, and the culprit (as the top frame, or lower in the stack) or the endpoint; ✗ = not. \"nothing named\" shows what the report put where the culprit belongs; \"est.\" = the finding's counts were estimated from stack samples, not measured from wait events.").AppendLine();

        foreach (var runtime in runtimes)
        {
            var ran = cells.Where(c => c.Runtime == runtime).ToList();
            var warmed = ran.Where(c => c.Moment == AttachMoment.AfterWarmUp).ToList();
            var afterWarmUp = ran.Count == warmed.Count ? "" : $" ({warmed.Count(c => c.Right)} of {warmed.Count} after warm-up)";
            md.AppendLine($"- **{runtime.Name}: {ran.Count(c => c.Right)} of {ran.Count} cells name the right kind and culprit or endpoint**{afterWarmUp}.");
        }

        md.AppendLine();
        var columns = (from moment in Enum.GetValues<AttachMoment>() from mode in Enum.GetValues<ReadMode>() select (moment, mode)).ToList();
        md.Append("| scenario | runtime | right answer |");
        foreach (var (moment, mode) in columns)
        {
            md.Append($" {Label(moment)}, {Label(mode)} |");
        }

        md.AppendLine().Append("|---|---|---|").AppendLine(string.Concat(columns.Select(_ => "---|")));
        foreach (var answer in cells.Select(c => c.Answer).Distinct())
        {
            foreach (var runtime in runtimes)
            {
                md.Append($"| `{answer.Scenario}` | {runtime.Name} | {answer.Kind} at `{answer.ShortCulprit}` (`{answer.Endpoint}`) |");
                foreach (var (moment, mode) in columns)
                {
                    var cell = cells.FirstOrDefault(c => c.Answer == answer && c.Runtime == runtime && c.Moment == moment && c.Mode == mode);
                    md.Append(' ').Append(cell is null ? "—" : Short(cell)).Append(" |");
                }

                md.AppendLine();
            }
        }

        md.AppendLine().AppendLine("## What the JIT did during the warm-up").AppendLine();
        md.AppendLine("| scenario | runtime | culprit | after the warm-up |").AppendLine("|---|---|---|---|");
        foreach (var answer in cells.Select(c => c.Answer).Distinct())
        {
            foreach (var runtime in runtimes)
            {
                var seen = tiering.TryGetValue((runtime.Major, answer.Scenario), out var t) ? t.Describe(answer.Culprit) : "not watched";
                md.AppendLine($"| `{answer.Scenario}` | {runtime.Name} | `{answer.Culprit}` | {seen} |");
            }
        }

        md.AppendLine().AppendLine("\"Recompiled at tier 1\" and \"inlined into\" come from the runtime's `MethodLoadVerbose` (its optimization tier) and `MethodInliningSucceeded` events during the warm-up; a method already promoted before the watch began, or promoted later, shows as not recompiled. To cross-check by hand, the runtime lists every method it compiles with its tier: `DOTNET_JitDisasmSummary=1 DOTNET_JitStdOutFile=jit.txt dotnet samples/BlockingApp/bin/Release/net10.0/BlockingApp.dll --scenario sync-over-async --rps 50 --no-agent`.");

        md.AppendLine().AppendLine("## Why a cell names nothing").AppendLine();
        md.AppendLine("- **The culprit's frame does not exist.** An MVC action is called by a method MVC compiles at run time (`dynamicClass.lambda_method*`, a dynamic method, optimized at its first call), and .NET 10's JIT inlines a small synchronous action into it at once: the table above shows `TaskWait` inlined into `lambda_method*` on .NET 10 (where it is, even in a target attached at start), not on .NET 8 or 9. A one-line wrapper (`StockClient.GetStockLevel`) is inlined into its caller when that caller reaches tier 1. A stack then goes from `Task.Wait`/`Thread.Sleep` to the framework, and LoopDoctor today says \"(no resolvable application frame)\".");
        md.AppendLine("- **Beyond the culprit's name**: the endpoint served on the blocked thread (ASP.NET Core's `EndpointMatched` and MVC's `BeforeAction` through the `Microsoft-Diagnostics-DiagnosticSource` bridge, or the injected agent's route pattern), and for a wait on a task what it waits for (`awaits`: the TPL's `TaskWaitBegin` and `TraceOperationBegin`, read in 5-second bursts once a pool thread blocks on a task). The matrix judges the culprit only; a cell that can name neither the culprit nor its endpoint says so in words (docs/cli.md, \"How it decides\").");
        md.AppendLine("- **Offline** reads only what the recording holds: `dotnet-trace`'s recipe above has the runtime's wait, thread-pool and contention events with their stacks, and the rundown at the end names the methods; it has no agent events and no DiagnosticSource bridge, so for an inlined action the endpoint is out of its reach unless the recording adds those providers.");
        md.AppendLine("- Timing: each cell is one diagnosis on a shared 2-core machine; a starved pool delays everything, including the CLI's own session, so a single cell can differ between runs (rerun to compare).");

        if (runtimes.Any(r => r.Major != TargetRuntime.Installed))
        {
            RenderRuntimeDifferences(md, cells, runtimes);
        }

        md.AppendLine().AppendLine("## Every cell").AppendLine();
        foreach (var cell in cells)
        {
            md.AppendLine($"- `{cell.Answer.Scenario}`, {cell.Runtime.Name}, {Label(cell.Moment)}, {Label(cell.Mode)}: {(cell.Right ? "✓" : "✗")} {Describe(cell)}{(cell.Estimated ? " (estimated from stack samples)" : "")}; kinds found: {(cell.KindsFound.Count == 0 ? "none" : string.Join(", ", cell.KindsFound))}");
        }

        return md.ToString();
    }

    /// <summary>Why .NET 8 and 9 may name less than .NET 10: what their runtimes do not give a session, with this run's counts.</summary>
    private static void RenderRuntimeDifferences(StringBuilder md, IReadOnlyList<CellResult> cells, IReadOnlyList<TargetRuntime> runtimes)
    {
        md.AppendLine().AppendLine("## What differs between runtimes").AppendLine();
        var net8 = runtimes.FirstOrDefault(r => r.Major == 8);
        if (net8 is not null)
        {
            var waits = cells.Where(c => c.Runtime == net8 && c.Answer.Kind == "blocking-wait").ToList();
            var estimated = waits.Count(c => c.Estimated);
            var offline = waits.Where(c => c.Mode == ReadMode.Offline).ToList();
            md.AppendLine($"- **.NET 8 emits no wait events.** `WaitHandleWaitStart/Stop` exist from .NET 9 on. On .NET 8, live and `--no-inject` find a blocking wait in the stack samples of pool threads parked in `.Result`, `.Wait()`, `GetResult()` and the like, and the finding says its counts and durations are estimated from the samples (\"est.\": {estimated} of the {waits.Count} .NET 8 blocking-wait cells here). The offline recipe records no stack samples (it finds no long callback on any runtime), so on .NET 8 it has nothing to estimate a wait from: {offline.Count(c => c.Naming != Naming.KindMissing)} of its {offline.Count} blocking-wait cells find the kind; a recording for .NET 8 needs the sampler too (`--profile dotnet-sampled-thread-time` beside `--clrevents`).");
        }

        md.AppendLine("- **Each runtime's JIT decides for itself** what to inline at tier 1 (the JIT table above has a row per runtime), so a culprit inlined on one runtime can keep its own frame on another, and the cell names the culprit there instead of the endpoint (in this run: the MVC actions `TaskWait` and `TaskSleepWait`, inlined into `lambda_method*` on .NET 10 only).");
        md.AppendLine("- **`sync-io` is a different kind on .NET 8.** `HttpClient.Send`'s synchronous path parks the thread on an event inside the framework: .NET 9 and 10 report that as a wait, so LoopDoctor names `ReadInventoryBlocking` under a blocking wait \"in synchronous I/O\", which is not the long callback the right answer asks for (✗); on .NET 8 there is no wait event, and the stack samples make the same call a long callback in synchronous I/O (✓).");
        md.AppendLine("- **.NET 9** has the wait events, so LoopDoctor reads it as it reads .NET 10; where a .NET 9 cell differs from .NET 10's after-warm-up cell, the JIT table or the timing of a single run (above) is the reason.");
    }

    internal static string Short(CellResult cell) => (cell.Right ? "✓ " : "✗ ") + cell.Naming switch
    {
        Naming.CulpritFrame => "culprit",
        Naming.CulpritLower => "culprit (lower frame)",
        Naming.Endpoint => "endpoint",
        Naming.NothingNamed => "nothing named",
        Naming.KindMissing => "kind missing",
        _ => "not run",
    } + (cell.Estimated ? ", est." : "");

    /// <summary>".NET 8 (8.0.31, self-contained): after warm-up": the runtime, the version its reports named, what ran.</summary>
    private static string RuntimeLine(TargetRuntime runtime, IReadOnlyList<CellResult> cells)
    {
        var version = cells.Where(c => c.Runtime == runtime).Select(c => c.RuntimeVersion).FirstOrDefault(v => v is not null) ?? "version not reported";
        var how = runtime.Major == TargetRuntime.Installed ? "installed, framework-dependent; every column" : "self-contained; after warm-up";
        return $"{runtime.Name} ({version}, {how})";
    }

    private static string Describe(CellResult cell) => cell.Naming switch
    {
        Naming.CulpritFrame => $"{cell.Answer.Kind} at `{cell.Named}`",
        Naming.CulpritLower => $"{cell.Answer.Kind}, culprit `{cell.Named}`",
        Naming.Endpoint => $"{cell.Answer.Kind}, endpoint `{cell.Named}` (no culprit frame)",
        Naming.NothingNamed => $"{cell.Answer.Kind}, nothing named: `{cell.Named}`",
        Naming.KindMissing => $"no {cell.Answer.Kind} finding",
        _ => $"not run: {cell.Named}",
    };

    private static string Label(AttachMoment moment) => moment == AttachMoment.AtStart ? "at start" : "after warm-up";

    private static string Label(ReadMode mode) => mode switch
    {
        ReadMode.Live => "live",
        ReadMode.Offline => "offline",
        _ => "--no-inject",
    };
}
