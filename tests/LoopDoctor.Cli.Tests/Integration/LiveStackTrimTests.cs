using System.Diagnostics;
using LoopDoctor.Cli.Runs;
using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Sources;
using LoopDoctor.Cli.Targets;

namespace LoopDoctor.Cli.Tests.Integration;

/// <summary>
/// A live TraceLog interns every distinct stack and never forgets one (microsoft/perfview#2451), so a long monitor grew
/// by those tables (P7 in docs/benchmarks.md). The adapter trims them once a second of trace time; stacks must still
/// resolve to names afterwards.
/// </summary>
[Collection(RealProcessCollection.Name)]
public class LiveStackTrimTests
{
    [Fact]
    public async Task A_live_session_trims_interned_stacks_every_second_and_still_names_the_culprit()
    {
        using var app = await TargetApp.StartAsync("sync-over-async");
        var pipeline = new DiagnosisPipeline();
        var target = TargetProcess.Describe(app.ProcessId);
        using var session = await LiveSession.StartAsync(target, pipeline.Observe, new LiveSessionOptions(Inject: false, TimeSpan.FromSeconds(1)), TextWriter.Null);

        // Trims happen on the reading thread as trace time passes: wait for three, then keep going two more seconds so
        // the culprit's waits are resolved after trims, not only before the first one.
        var waited = Stopwatch.StartNew();
        while (session.StackTrims < 3 && waited.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(100);
        }

        Assert.True(session.StackTrims >= 3, $"only {session.StackTrims} trims in {waited.Elapsed.TotalSeconds:F0} s");
        var trimsBefore = session.StackTrims;
        await session.RunAsync(TimeSpan.FromSeconds(2), CancellationToken.None);
        Assert.True(session.StackTrims > trimsBefore);

        var report = pipeline.BuildReport(new TargetInfo(target.ProcessId, target.Name), session.Elapsed.TotalSeconds, session.Agent);
        var wait = report.Findings.FirstOrDefault(f => f.Kind == FindingKinds.BlockingWait);
        Assert.NotNull(wait);
        Assert.Contains(wait.CallSites, c => c.Frames.Count > 0 && c.Frames[0] == "LoopDoctor.TestTarget.Scenarios.SyncOverAsync");
    }
}
