using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Signals;
using static LoopDoctor.Cli.Tests.Detectors.SignalBuilder;

namespace LoopDoctor.Cli.Tests.Detectors;

/// <summary>
/// Who took a contended lock, from the contention's stack: "Lock contention at X" only where X (or a method inlined
/// into it) takes the lock; a lock taken inside the framework goes to the finding of the call that reached it.
/// </summary>
public class LockAttributionTests
{
    private const string Enter = "System.Threading.Monitor.Enter";
    private const string ResultWait = "System.Threading.ManualResetEventSlim.Wait";
    private const string GetResult = "System.Threading.Tasks.Task`1.GetResultCore";

    [Fact]
    public void The_frame_just_outside_Monitor_Enter_took_the_lock()
    {
        var taker = new CallStack([null, Enter, Helper, Handler]).LockTaker;
        Assert.Equal(new LockTaker(LockTakerKind.Application, Helper, null), taker);
    }

    [Fact]
    public void On_net8_and_9_the_innermost_frame_of_a_contention_took_the_lock()
    {
        // Measured on 8.0.31 and 9.0.20: the runtime enters a contended lock in native code called straight from the
        // method with the lock statement, so the contention's stack starts with it (no Monitor frame).
        var taker = new CallStack([Helper, Handler, "System.Threading.ThreadPoolWorkQueue.Dispatch"]).LockTaker;
        Assert.Equal(new LockTaker(LockTakerKind.Application, Helper, null), taker);
    }

    [Fact]
    public void A_lock_inside_a_task_wait_is_the_frameworks_and_named_after_the_api_called()
    {
        var taker = new CallStack([null, "System.Threading.Monitor.Wait", ResultWait, "System.Threading.Tasks.Task.SpinThenBlockingWait", GetResult, Handler]).LockTaker;
        Assert.Equal(LockTakerKind.Framework, taker.Kind);
        Assert.Equal(ResultWait, taker.Frame);
        Assert.Equal(".Result", taker.FrameworkApi);
    }

    [Fact]
    public void A_lock_in_HttpClients_pool_is_named_after_HttpClient_Send()
    {
        var taker = new CallStack([Enter, "System.Net.Http.HttpConnectionPool.GetHttp11ConnectionAsync", null, "System.Net.Http.HttpClient.Send", Handler]).LockTaker;
        Assert.Equal(LockTakerKind.Framework, taker.Kind);
        Assert.Equal("HttpClient.Send", taker.FrameworkApi);
    }

    public static TheoryData<string?[]> UnresolvedTakers => new()
    {
        new[] { Enter, null, Handler }, // the caller of Monitor.Enter did not resolve: it may be framework code
        new[] { null, Handler }, // no Monitor/Lock frame resolved: Handler may have called into unnamed code
        new[] { Enter },
    };

    [Theory]
    [MemberData(nameof(UnresolvedTakers))]
    public void An_unresolved_taker_is_unknown(string?[] frames) =>
        Assert.Equal(LockTakerKind.Unknown, new CallStack(frames).LockTaker.Kind);

    [Fact]
    public void Contention_inside_Result_is_folded_into_the_blocking_wait_not_reported_as_a_lock()
    {
        var wait = PoolStack(Handler);
        var s = new SignalBuilder().Worker(7, 0).Worker(8, 0);
        for (var i = 0; i < 20; i++)
        {
            s.Wait(7, i * 100, i * 100 + 90, new CallStack([GetResult, .. wait.Frames]));
            s.Add(new ContentionStarted(i * 100 + 91, 8, new CallStack([Enter, ResultWait, GetResult, .. wait.Frames])))
             .Add(new ContentionStopped(i * 100 + 95, 8, 4, new CallStack([Enter, ResultWait, GetResult, .. wait.Frames])));
        }

        var report = s.Report();
        Assert.DoesNotContain(report.Findings, f => f.Kind == FindingKinds.LockContention);
        var blocking = Assert.Single(report.Findings, f => f.Kind == FindingKinds.BlockingWait);
        var folded = Assert.Single(blocking.FrameworkLocks);
        Assert.Equal((".Result", "ManualResetEventSlim.Wait", Handler, 20L, 80.0), (folded.Api, folded.LockTakenIn, folded.Frames[0], folded.Count, folded.TotalMilliseconds));
    }

    [Fact]
    public void Framework_contention_no_finding_explains_is_an_info_lock_contention_without_call_sites()
    {
        var stack = new CallStack([Enter, "System.Threading.SemaphoreSlim.WaitAsync", Handler]);
        var s = new SignalBuilder().Add(new ContentionStopped(10, 7, 500, stack));
        var finding = Assert.Single(s.Report().Findings);
        Assert.Equal((FindingKinds.LockContention, Severity.Info), (finding.Kind, finding.Severity));
        Assert.Empty(finding.CallSites);
        Assert.Equal("SemaphoreSlim.WaitAsync", Assert.Single(finding.FrameworkLocks).Api);
        Assert.DoesNotContain("Lock contention at", finding.Title);
    }

    [Fact]
    public void Starvation_is_explained_by_the_blocking_wait_that_caused_it()
    {
        var s = new SignalBuilder();
        for (var i = 0; i < 10; i++)
        {
            s.Worker(10 + i, 0).Add(new PoolAdjustment(i * 50, 0, 4 + i, AdjustmentReason.CooperativeBlocking));
        }

        for (var i = 0; i < 10; i++)
        {
            s.Add(new WaitStarted(500 + i, 10 + i, WaitSource.MonitorWait, new CallStack([GetResult, .. PoolStack(Handler).Frames])));
        }

        for (var i = 0; i < 10; i++)
        {
            s.Add(new WaitStopped(2000 + i, 10 + i));
        }

        var report = s.Report();
        var starvation = Assert.Single(report.Findings, f => f.Kind == FindingKinds.ThreadPoolStarvation);
        Assert.Equal([FindingKinds.BlockingWait], starvation.ExplainedBy);
        Assert.StartsWith($"STARVING — up to 10 threads were blocked in waits at once, the most time in `.Result` at `{Handler}`; the runtime injected 10 threads in 10 s.", report.Summary);
        Assert.StartsWith("Fix finding 2 (`blocking-wait`", report.NextStep);
    }

    /// <summary>
    /// The property: whatever the stacks (application, framework and lock frames, unresolved runs, in any order), every
    /// lock-contention call site starts with an application frame that, on some contention's stack, is the first frame
    /// just outside the lock's own frames with nothing unresolved in between.
    /// </summary>
    [Fact]
    public void No_lock_contention_call_site_lacks_a_lock_taking_application_frame()
    {
        string?[] pool =
        [
            null, Enter, "System.Threading.Monitor.ReliableEnter", "System.Threading.Lock.EnterAndGetCurrentThreadId", "System.Threading.Monitor.Wait",
            ResultWait, GetResult, "System.Net.Http.HttpConnectionPool.GetConnection", "System.Net.Http.HttpClient.Send", "System.Threading.SemaphoreSlim.WaitAsync",
            "MyApp.A.One", "MyApp.B.Two", "MyApp.C.Three", "Other.D.Four",
        ];
        var random = new Random(18);
        for (var run = 0; run < 300; run++)
        {
            var s = new SignalBuilder();
            var takers = new HashSet<string>();
            for (var i = 0; i < 8; i++)
            {
                var frames = Enumerable.Range(0, random.Next(0, 7)).Select(_ => pool[random.Next(pool.Length)]).ToArray();
                if (LockTakingApplicationFrame(frames) is { } taker)
                {
                    takers.Add(taker);
                }

                s.Add(new ContentionStopped(i * 10, 1 + i, 1 + random.Next(200), new CallStack(frames)));
            }

            foreach (var site in s.Report().Findings.Where(f => f.Kind == FindingKinds.LockContention).SelectMany(f => f.CallSites))
            {
                Assert.NotEmpty(site.Frames);
                Assert.True(CallStack.IsApplicationFrame(site.Frames[0]), $"run {run}: {site.Frames[0]}");
                Assert.Contains(site.Frames[0], takers);
            }
        }
    }

    // An oracle written apart from LockTaker: the frame right after the innermost run of Monitor/Lock frames (or the
    // innermost frame when there is none), if it is resolved application code.
    private static string? LockTakingApplicationFrame(string?[] frames)
    {
        var firstOutside = Array.FindIndex(frames, f => f is not null && !f.StartsWith("System.Threading.Monitor.", StringComparison.Ordinal) && !f.StartsWith("System.Threading.Lock.", StringComparison.Ordinal));
        // First of all (no lock frame at all): .NET 8 and 9 enter the lock in native code straight from the taker.
        if (firstOutside < 0 || (firstOutside > 0 && frames[firstOutside - 1] is null))
        {
            return null;
        }

        var taker = frames[firstOutside]!;
        return taker.StartsWith("System.", StringComparison.Ordinal) ? null : taker;
    }
}
