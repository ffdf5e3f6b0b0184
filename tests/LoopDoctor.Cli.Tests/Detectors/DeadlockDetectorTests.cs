using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Signals;
using LoopDoctor.Cli.Snapshots;
using static LoopDoctor.Cli.Tests.Detectors.SignalBuilder;

namespace LoopDoctor.Cli.Tests.Detectors;

public class DeadlockDetectorTests
{
    private const string Move = "MyApp.Banking.Transfers.Move";
    private const string Statement = "MyApp.Banking.Statements.Print";

    private static SignalBuilder LockWait(SignalBuilder s, int thread, double at, ulong lockObject, int owner, string frame) =>
        s.Add(new ContentionStarted(at, thread, LockStack(frame))).Add(new LockWaitStarted(at, thread, lockObject + 1, lockObject, owner));

    [Fact]
    public void Two_threads_waiting_for_each_others_locks_for_a_second_are_a_deadlock_with_the_threads_behind_it()
    {
        var s = new SignalBuilder().Worker(7, 0).Worker(8, 0).Worker(9, 0);
        LockWait(s, 7, 100, 0xA0, owner: 8, Move);
        LockWait(s, 8, 101, 0xB0, owner: 7, Move);
        LockWait(s, 9, 500, 0xB0, owner: 7, Statement);
        s.Add(new PoolThreadSeen(1500, 42)); // time passes: the waits stay open

        var finding = s.Find(FindingKinds.Deadlock);
        Assert.NotNull(finding);
        Assert.Equal(Severity.Critical, finding.Severity);
        Assert.Contains("2 threads wait for each other's locks", finding.Title);
        Assert.Contains("1 more thread queue behind them", finding.Title);
        Assert.Equal(Move, finding.CallSites[0].Frames[0]);
        Assert.Contains(finding.Evidence, e => e.StartsWith("thread 7 (pool thread) holds the lock on the object at 0xb0 and waits for the lock on the object at 0xa0 at " + Move, StringComparison.Ordinal));
        Assert.Contains(finding.Evidence, e => e.StartsWith("1 more thread queues behind the cycle at " + Statement, StringComparison.Ordinal));
        Assert.Null(s.Find(FindingKinds.HungWait));
    }

    [Fact]
    public void Short_waits_with_crossing_owners_are_contention_not_a_deadlock()
    {
        var s = new SignalBuilder().Worker(7, 0).Worker(8, 0);
        LockWait(s, 7, 100, 0xA0, owner: 8, Move);
        LockWait(s, 8, 101, 0xB0, owner: 7, Move);
        s.Add(new PoolThreadSeen(400, 42));

        Assert.Null(s.Find(FindingKinds.Deadlock));
    }

    [Fact]
    public void A_wait_nobody_ends_is_a_hung_wait_by_call_site_but_Main_waiting_for_shutdown_is_not()
    {
        var s = new SignalBuilder().Worker(7, 0);
        s.Add(new WaitStarted(100, 7, WaitSource.MonitorWait, PoolStack("System.Threading.ManualResetEventSlim.Wait", "MyApp.Config.Settings.Read")));
        s.Add(new WaitStarted(100, 1, WaitSource.Unknown, Stack("System.Threading.Tasks.Task.Wait", "MyApp.Program.Main")));
        s.Add(new PoolThreadSeen(10_200, 42));

        var finding = s.Find(FindingKinds.HungWait);
        Assert.NotNull(finding);
        var site = Assert.Single(finding.CallSites);
        Assert.Equal("MyApp.Config.Settings.Read", site.Frames[0]);
        Assert.Equal(1, finding.Count);
        Assert.Equal(10_100, finding.MaxMilliseconds, 3);
    }
    [Fact]
    public void Only_non_pool_threads_waiting_is_info_a_host_waiting_for_shutdown_looks_the_same()
    {
        var s = new SignalBuilder();
        // BlockingApp's main thread: Main → RunServer → WaitHandle.WaitOne until the host stops.
        s.Add(new WaitStarted(100, 1, WaitSource.Unknown, Stack("System.Threading.WaitHandle.WaitOne", "MyApp.Program.RunServer", "MyApp.Program.Main")));
        s.Add(new PoolThreadSeen(10_200, 42));

        var finding = s.Find(FindingKinds.HungWait);
        Assert.NotNull(finding);
        Assert.Equal(Severity.Info, finding.Severity);
        Assert.Contains(finding.Evidence, e => e.StartsWith("None of these is a thread-pool thread", StringComparison.Ordinal));

        s.Add(new WaitStarted(10_300, 7, WaitSource.MonitorWait, PoolStack("System.Threading.ManualResetEventSlim.Wait", "MyApp.Config.Settings.Read")));
        s.Add(new PoolThreadSeen(20_400, 42));
        Assert.Equal(Severity.Warning, s.Find(FindingKinds.HungWait)!.Severity);
    }

    // A snapshot (monitor's, taken mid-session) that shows thread 7 waiting for the lock at 0xA0, which thread 8 holds.
    private static ProcessSnapshot SnapshotWithOneWait() => new(
        [
            new SnapshotThread(7, 1, null, true, ["System.Threading.Monitor.Enter", Move], 0xA0),
            new SnapshotThread(8, 2, null, true, [Statement], null),
        ],
        [new SnapshotLock(0xA0, "System.Object", SnapshotLockKind.Monitor, 8, 1, "MyApp.Banking.Transfers._checking")],
        TimeSpan.FromSeconds(1), 1 << 20, null);

    [Fact]
    public void After_a_mid_session_snapshot_a_wait_that_ended_is_no_edge_and_a_cycle_formed_later_is_found_from_events()
    {
        var s = new SignalBuilder().Worker(7, 0).Worker(8, 0).Worker(9, 0);
        s.Add(new SnapshotTaken(1000, SnapshotWithOneWait()));
        // Thread 7 got its lock after all: the snapshot's edge 7 → 8 is gone. Then 8 and 9 deadlock, seen in events.
        s.Add(new ContentionStopped(1100, 7, 900, CallStack.Empty));
        LockWait(s, 7, 2000, 0xC0, owner: 8, Move);
        LockWait(s, 8, 2001, 0xB0, owner: 9, Move);
        LockWait(s, 9, 2002, 0xD0, owner: 8, Statement);
        s.Add(new PoolThreadSeen(3500, 42));

        var finding = s.Find(FindingKinds.Deadlock);
        Assert.NotNull(finding);
        Assert.Contains("2 threads wait for each other's locks (the lock on the object at 0xb0, the lock on the object at 0xd0)", finding.Title);
        Assert.Contains("1 more thread queue behind them", finding.Title);
        Assert.Contains(finding.Evidence, e => e.StartsWith("Seen in the runtime's contention events", StringComparison.Ordinal));
    }

    [Fact]
    public void A_snapshot_edge_whose_wait_goes_on_still_closes_a_cycle()
    {
        var s = new SignalBuilder().Worker(7, 0).Worker(8, 0);
        s.Add(new SnapshotTaken(1000, SnapshotWithOneWait()));
        LockWait(s, 8, 2000, 0xB0, owner: 7, Statement); // 8 now waits for a lock 7 holds, while 7 still waits for 8's

        var finding = s.Add(new PoolThreadSeen(3500, 42)).Find(FindingKinds.Deadlock);
        Assert.NotNull(finding);
        Assert.Contains("the lock on a System.Object in MyApp.Banking.Transfers._checking", finding.Title);
    }
}
