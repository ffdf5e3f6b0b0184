using System.Text;
using System.Text.RegularExpressions;

namespace LoopDoctor.Bench.Infrastructure;

/// <summary>
/// Writes docs/benchmarks.md: a summary table, then one section per row between <c>&lt;!-- row Pn --&gt;</c> markers.
/// Rows not run this time (<c>--only</c>) keep their previous section and summary line, each with its own
/// provenance (command, machine, date), so a partial re-run never mixes figures of different runs silently.
/// Hand-written sections (a <c>## </c> heading outside the row markers, e.g. "Runtime listener") are kept verbatim at the end.
/// </summary>
internal static partial class BenchReport
{
    public static string Render(IReadOnlyList<BenchRow> allRows, IReadOnlyList<RowResult> results, string? previous, string command, string machine)
    {
        var previousSections = new Dictionary<string, string>();
        var previousSummary = new Dictionary<string, string>();
        if (previous is not null)
        {
            foreach (Match m in SectionBlock().Matches(previous))
            {
                previousSections[m.Groups["id"].Value] = m.Value;
            }

            foreach (Match m in SummaryLine().Matches(previous))
            {
                previousSummary[m.Groups["id"].Value] = m.Value.TrimEnd('\r');
            }
        }

        var handWritten = previous is null ? [] : HandWrittenSections(previous, allRows.Select(r => r.Id).ToHashSet());
        var byId = results.ToDictionary(r => r.Id);
        var doc = new StringBuilder();
        doc.AppendLine("# Benchmarks");
        doc.AppendLine();
        doc.AppendLine("LoopDoctor's performance suite: one command runs every row and rewrites this file.");
        doc.AppendLine();
        doc.AppendLine("```bash");
        doc.AppendLine("./bench/run.sh                 # every row (P7 takes 10 minutes)");
        doc.AppendLine("./bench/run.sh --only P1,P3    # some rows; the other sections below are kept as they were");
        doc.AppendLine("./bench/run.sh --smoke         # seconds: proves the harness works (CI), judges nothing");
        doc.AppendLine("```");
        doc.AppendLine();
        doc.AppendLine("The machines this runs on are small (2 cores) and shared, so no overhead here is an absolute time compared with");
        doc.AppendLine("another day's number: every host cost is the **ratio of alternating A/B runs in one invocation** (A B A B …,");
        doc.AppendLine("fresh processes each time), reported as the median of the per-pair ratios with the min–max over the pairs.");
        doc.AppendLine("Each section states the command, the machine and the date it was measured with.");
        doc.AppendLine();
        doc.AppendLine("## Summary");
        doc.AppendLine();
        doc.AppendLine($"Last run: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, `{command}`; machine: {machine}.");
        doc.AppendLine();
        doc.AppendLine("| id | what | figure: median (min–max, n) | goal | status |");
        doc.AppendLine("|---|---|---|---|---|");
        foreach (var row in allRows)
        {
            if (byId.TryGetValue(row.Id, out var r))
            {
                doc.AppendLine($"| {r.Id} | {r.What} | {Cell(r.Figure)} | {Cell(r.Goal)} | {r.StatusText} |");
            }
            else if (previousSummary.TryGetValue(row.Id, out var line))
            {
                doc.AppendLine(line);
            }
            else
            {
                doc.AppendLine($"| {row.Id} | {row.What} | not measured yet | {Cell(row.Goal)} | — |");
            }
        }

        // Summary lines of rows the harness does not run (measured by a script of their own, e.g. P8, P9) are kept.
        var rowIds = allRows.Select(r => r.Id).ToHashSet();
        foreach (var (id, line) in previousSummary)
        {
            if (!rowIds.Contains(id))
            {
                doc.AppendLine(line);
            }
        }

        doc.AppendLine();
        foreach (var row in allRows)
        {
            if (byId.TryGetValue(row.Id, out var r))
            {
                doc.AppendLine($"<!-- row {r.Id} -->");
                doc.AppendLine($"## {r.Id}: {row.Title}");
                doc.AppendLine();
                doc.AppendLine($"*Measured {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC by `{command}`; machine: {machine}.*");
                doc.AppendLine();
                doc.AppendLine($"**Goal**: {r.Goal}. **Figure**: {r.Figure}. **Status**: {r.StatusText}.");
                doc.AppendLine();
                doc.Append(r.Section.TrimEnd()).AppendLine();
                doc.AppendLine($"<!-- /row {r.Id} -->");
                doc.AppendLine();
            }
            else if (previousSections.TryGetValue(row.Id, out var section))
            {
                doc.AppendLine(section.TrimEnd());
                doc.AppendLine();
            }
        }

        foreach (var section in handWritten)
        {
            doc.AppendLine(section.TrimEnd());
            doc.AppendLine();
        }

        return doc.ToString().TrimEnd() + "\n";
    }

    /// <summary>
    /// <c>## </c> sections outside the row markers that the harness does not generate. "Summary" is generated; the
    /// unmarked "Agent hot paths" is the pre-harness version of P2 and is replaced by it.
    /// </summary>
    private static List<string> HandWrittenSections(string previous, IReadOnlySet<string> rowIds)
    {
        var rest = SectionBlock().Replace(previous, "");
        var sections = new List<string>();
        foreach (var part in Regex.Split(rest, @"(?m)^(?=## )"))
        {
            if (!part.StartsWith("## ", StringComparison.Ordinal))
            {
                continue;
            }

            var heading = part[3..part.IndexOf('\n', StringComparison.Ordinal)].Trim();
            // A "## P9: ..." section of a row the harness does not run (measured by a script of its own) is hand-written too.
            if (heading is "Summary" or "Agent hot paths" || (Regex.Match(heading, @"^([PT]\d+):") is { Success: true } id && rowIds.Contains(id.Groups[1].Value)))
            {
                continue;
            }

            sections.Add(part);
        }

        return sections;
    }

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);

    [GeneratedRegex(@"<!-- row (?<id>[PT]\d+) -->.*?<!-- /row \k<id> -->", RegexOptions.Singleline)]
    private static partial Regex SectionBlock();

    [GeneratedRegex(@"^\| (?<id>[PT]\d+) \|.*$", RegexOptions.Multiline)]
    private static partial Regex SummaryLine();
}
