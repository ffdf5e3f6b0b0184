using LoopDoctor.Bench.Accuracy;

namespace LoopDoctor.Bench.Tests;

/// <summary>The accuracy matrix's <c>--runtime</c> option and its runtime column (pure logic; bench/accuracy.sh runs the matrix).</summary>
public sealed class AccuracyMatrixFormatTests
{
    [Fact]
    public void Runtime_option_defaults_to_every_runtime_and_keeps_the_given_order_once_each()
    {
        Assert.Equal([8, 9, 10], AccuracyOptions.Parse([]).Runtimes.Select(r => r.Major));
        Assert.Equal([10, 8], AccuracyOptions.Parse(["--runtime", "10, 8,10"]).Runtimes.Select(r => r.Major));
    }

    [Theory]
    [InlineData("7", "--runtime takes 8, 9, 10 or a comma-separated list of them (got '7')")]
    [InlineData("net8.0", "--runtime takes 8, 9, 10 or a comma-separated list of them (got 'net8.0')")]
    [InlineData(",", "--runtime needs at least one of 8, 9, 10")]
    public void Unsupported_runtime_is_a_one_line_usage_error(string value, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => AccuracyOptions.Parse(["--runtime", value]));
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void Only_the_installed_runtime_is_attached_at_start()
    {
        Assert.True(new TargetRuntime(10).Runs(AttachMoment.AtStart));
        Assert.False(new TargetRuntime(8).Runs(AttachMoment.AtStart));
        Assert.True(new TargetRuntime(8).Runs(AttachMoment.AfterWarmUp));
    }

    [Fact]
    public void Document_has_a_row_per_scenario_and_runtime_with_totals_per_runtime()
    {
        var wait = RightAnswer.All.Single(a => a.Scenario == "wait");
        var net8 = new TargetRuntime(8);
        var net10 = new TargetRuntime(10);
        CellResult[] cells =
        [
            new(wait, net10, AttachMoment.AtStart, ReadMode.Live, Naming.CulpritFrame, wait.Culprit, ["blocking-wait"], "10.0.12"),
            new(wait, net10, AttachMoment.AfterWarmUp, ReadMode.Live, Naming.CulpritFrame, wait.Culprit, ["blocking-wait"], "10.0.12"),
            new(wait, net8, AttachMoment.AfterWarmUp, ReadMode.Live, Naming.CulpritFrame, wait.Culprit, ["blocking-wait"], "8.0.31", Estimated: true),
            new(wait, net8, AttachMoment.AfterWarmUp, ReadMode.Offline, Naming.KindMissing, "", ["thread-pool-starvation"], "8.0.31"),
        ];

        var md = AccuracyDocument.Render(cells, new Dictionary<(int, string), LoopDoctor.Testing.TieringReport>(), "./bench/accuracy.sh",
            "test machine", TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(12));

        Assert.Contains("| scenario | runtime | right answer | at start, live |", md);
        Assert.Contains("| `wait` | .NET 10 | blocking-wait at `WaitScenario.WarmCachesBlocking` (`/wait`) | ✓ culprit | — | — | ✓ culprit | — | — |", md);
        Assert.Contains("| `wait` | .NET 8 | blocking-wait at `WaitScenario.WarmCachesBlocking` (`/wait`) | — | — | — | ✓ culprit, est. | ✗ kind missing | — |", md);
        Assert.Contains("- **.NET 10: 2 of 2 cells name the right kind and culprit or endpoint** (1 of 1 after warm-up).", md);
        Assert.Contains("- **.NET 8: 1 of 2 cells name the right kind and culprit or endpoint**.", md);
        Assert.Contains(".NET 8 (8.0.31, self-contained; after warm-up)", md);
        Assert.Contains("\"est.\": 1 of the 2 .NET 8 blocking-wait cells here", md);
        Assert.Contains("0 of its 1 blocking-wait cells find the kind", md);
        Assert.Contains("- `wait`, .NET 8, after warm-up, live: ✓ blocking-wait at `BlockingApp.Scenarios.WaitScenario.WarmCachesBlocking` (estimated from stack samples)", md);
    }
}
