using System.Text;
using LoopDoctor.Testing;

namespace LoopDoctor.Bench.Accuracy;

/// <summary>Renders docs/accuracy.md: the matrix, what each cell named, and what the JIT did to each culprit.</summary>
internal static class AccuracyDocument
{
    public static string Render(IReadOnlyList<CellResult> cells, IReadOnlyDictionary<string, TieringReport> tiering,
        string commandLine, string machine, TimeSpan sessionLength, TimeSpan warmUp)
    {
        var md = new StringBuilder();
        md.AppendLine("# Accuracy: what LoopDoctor names on real code").AppendLine();
        md.AppendLine("Written by `./bench/accuracy.sh` (do not edit by hand; rerun it). Each cell is one real diagnosis of");
        md.AppendLine("`samples/BlockingApp` under its own load, judged against the right answer written in");
        md.AppendLine("`bench/LoopDoctor.Bench.Harness/Accuracy/RightAnswer.cs`: the finding kind, and the culprit method or the endpoint.").AppendLine();
        md.AppendLine($"- Command: `{commandLine}`; machine: {machine}; measured {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC.");
        md.AppendLine($"- **At start**: a fresh target per cell, read as soon as it is ready. **After warm-up**: one target per scenario, under load for {warmUp.TotalSeconds:0} s while its JIT is watched (`TieringWatch`: the runtime's JIT and JIT-tracing events), then read three times in a row: `--no-inject`, offline, live.");
        md.AppendLine($"- **Live**: `loopdoctor diagnose -p PID --duration {sessionLength.TotalSeconds:0}s` (the target runs `--no-agent`, so the agent is injected). **Offline**: `dotnet-trace collect -p PID --clrevents waithandle+threading+contention --clreventlevel verbose --duration {sessionLength.TotalSeconds:0}s`, then `loopdoctor analyze`. **--no-inject**: `diagnose --no-inject`, EventPipe only.");
        md.AppendLine("- ✓ = the right kind, and the culprit (as the top frame, or lower in the stack) or the endpoint; ✗ = not. \"nothing named\" shows what the report put where the culprit belongs.").AppendLine();

        var right = cells.Count(c => c.Right);
        md.AppendLine($"**{right} of {cells.Count} cells name the right kind and culprit or endpoint.**").AppendLine();

        var columns = (from moment in Enum.GetValues<AttachMoment>() from mode in Enum.GetValues<ReadMode>() select (moment, mode)).ToList();
        md.Append("| scenario | right answer |");
        foreach (var (moment, mode) in columns)
        {
            md.Append($" {Label(moment)}, {Label(mode)} |");
        }

        md.AppendLine().Append("|---|---|").AppendLine(string.Concat(columns.Select(_ => "---|")));
        foreach (var answer in cells.Select(c => c.Answer).Distinct())
        {
            md.Append($"| `{answer.Scenario}` | {answer.Kind} at `{answer.ShortCulprit}` (`{answer.Endpoint}`) |");
            foreach (var (moment, mode) in columns)
            {
                var cell = cells.FirstOrDefault(c => c.Answer == answer && c.Moment == moment && c.Mode == mode);
                md.Append(' ').Append(cell is null ? "—" : Short(cell)).Append(" |");
            }

            md.AppendLine();
        }

        md.AppendLine().AppendLine("## What the JIT did during the warm-up").AppendLine();
        md.AppendLine("| scenario | culprit | after the warm-up |").AppendLine("|---|---|---|");
        foreach (var answer in cells.Select(c => c.Answer).Distinct())
        {
            var seen = tiering.TryGetValue(answer.Scenario, out var t) ? t.Describe(answer.Culprit) : "not watched";
            md.AppendLine($"| `{answer.Scenario}` | `{answer.Culprit}` | {seen} |");
        }

        md.AppendLine().AppendLine("## Every cell").AppendLine();
        foreach (var cell in cells)
        {
            md.AppendLine($"- `{cell.Answer.Scenario}`, {Label(cell.Moment)}, {Label(cell.Mode)}: {(cell.Right ? "✓" : "✗")} {Describe(cell)}; kinds found: {(cell.KindsFound.Count == 0 ? "none" : string.Join(", ", cell.KindsFound))}");
        }

        return md.ToString();
    }

    private static string Short(CellResult cell) => (cell.Right ? "✓ " : "✗ ") + cell.Naming switch
    {
        Naming.CulpritFrame => "culprit",
        Naming.CulpritLower => "culprit (lower frame)",
        Naming.Endpoint => "endpoint",
        Naming.NothingNamed => "nothing named",
        Naming.KindMissing => "kind missing",
        _ => "not run",
    };

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
