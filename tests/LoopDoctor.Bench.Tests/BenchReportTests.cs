using LoopDoctor.Bench.Infrastructure;

namespace LoopDoctor.Bench.Tests;

/// <summary>docs/benchmarks.md keeps what the harness does not measure itself (pure logic over the previous text).</summary>
public sealed class BenchReportTests
{
    private sealed class Row(string id) : BenchRow
    {
        public override string Id => id;
        public override string What => "a row";
        public override string Goal => "a goal";

        public override Task<RowResult> RunAsync(BenchContext context, CancellationToken cancellationToken) => throw new NotSupportedException();
    }

    private const string Previous = """
        # Benchmarks

        ## Summary

        | id | what | figure: median (min–max, n) | goal | status |
        |---|---|---|---|---|
        | P1 | a row | 1.0 | a goal | met |
        | P9 | fleet sidecar cost, measured by bench/fleet | 1.4% per process | ≤ 0.5% | **missed** |

        <!-- row P1 -->
        ## P1: a row
        old figures
        <!-- /row P1 -->

        ## P9: Fleet sidecar cost (preliminary)

        measured by hand.

        """;

    [Fact]
    public void Rows_measured_by_scripts_of_their_own_keep_their_summary_line_and_section()
    {
        var text = BenchReport.Render([new Row("P1")], [], Previous, "./bench/run.sh --only P1", "test machine");

        Assert.Contains("| P1 | a row | 1.0 | a goal | met |", text);
        Assert.True(text.Contains("| P9 | fleet sidecar cost, measured by bench/fleet | 1.4% per process | ≤ 0.5% | **missed** |", StringComparison.Ordinal), text);
        Assert.Contains("## P9: Fleet sidecar cost (preliminary)", text);
        Assert.Contains("measured by hand.", text);
        Assert.Contains("old figures", text);
    }
}
