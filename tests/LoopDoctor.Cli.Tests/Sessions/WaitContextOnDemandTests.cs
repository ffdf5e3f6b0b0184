using LoopDoctor.Cli.Signals;
using LoopDoctor.Cli.Sources;
using LoopDoctor.Cli.Tests.Attribution;
using LoopDoctor.Cli.Tests.Detectors;

namespace LoopDoctor.Cli.Tests.Sessions;

/// <summary>
/// When the task events and request markers are read: only once a pool thread blocks, in bursts with a pause between them. Their
/// session is real; the target here is a process id nothing listens on, so each attempt ends in the one-line notice.
/// </summary>
public sealed class WaitContextOnDemandTests
{
    private const int NoSuchProcess = int.MaxValue - 7;

    private static WaitStarted ResultWait(double at = 1) => new(at, 3, WaitSource.MonitorWait, InlinedEndpointAttributionTests.MvcResult);

    [Fact]
    public void Only_a_pool_thread_parked_in_a_named_wait_triggers_them()
    {
        Assert.True(WaitContextOnDemand.IsBlockedPoolThread(ResultWait()));
        Assert.True(WaitContextOnDemand.IsBlockedPoolThread(new StackSample(1, 3, SampleKind.External, InlinedEndpointAttributionTests.MvcResult)));
        Assert.True(WaitContextOnDemand.IsBlockedPoolThread(new WaitStarted(1, 3, WaitSource.Unknown, SignalBuilder.PoolStack("System.Threading.SemaphoreSlim.Wait", SignalBuilder.Handler))));
        Assert.True(WaitContextOnDemand.IsBlockedPoolThread(new StackSample(1, 3, SampleKind.External, InlinedEndpointAttributionTests.MvcSleep))); // Thread.Sleep shows only in samples

        Assert.False(WaitContextOnDemand.IsBlockedPoolThread(new StackSample(1, 3, SampleKind.Managed, InlinedEndpointAttributionTests.MvcResult))); // spinning, not parked
        Assert.False(WaitContextOnDemand.IsBlockedPoolThread(new WaitStarted(1, 3, WaitSource.Unknown, SignalBuilder.Stack("System.Threading.Tasks.Task`1.GetResultCore", "MyApp.Program.Main")))); // not a pool thread
        Assert.False(WaitContextOnDemand.IsBlockedPoolThread(new ContentionStopped(1, 3, 12, SignalBuilder.Stack("System.Threading.Monitor.Enter", "MyApp.Program.Main"))));
        Assert.False(WaitContextOnDemand.IsBlockedPoolThread(new WaitStarted(1, 3, WaitSource.Unknown, SignalBuilder.PoolStack(
            "System.Threading.WaitHandle.WaitOneNoCheck", "System.Threading.Lock.TryEnterSlow", "System.Threading.TimerQueueTimer.Execute")))); // the framework's own lock
        Assert.False(WaitContextOnDemand.IsBlockedPoolThread(new WaitStarted(1, 3, WaitSource.Unknown, SignalBuilder.PoolStack(
            "System.Threading.WaitHandle.WaitOneNoCheck", "System.Threading.Lock.TryEnterSlow", "System.Threading.Tasks.Task.Delay", SignalBuilder.Handler)))); // a brief lock wait under app code
        Assert.False(WaitContextOnDemand.IsBlockedPoolThread(new ContentionStopped(1, 3, 0.5, SignalBuilder.PoolStack("System.Threading.Monitor.Enter", SignalBuilder.Handler)))); // a brief one
        Assert.False(WaitContextOnDemand.IsBlockedPoolThread(new StackSample(1, 3, SampleKind.External,
            SignalBuilder.PoolStack("System.Net.Sockets.SocketPal.TryCompleteReceive", "System.Net.Sockets.Socket.ReceiveAsync", SignalBuilder.Handler)))); // a non-blocking receive
        Assert.False(WaitContextOnDemand.IsBlockedPoolThread(new WaitStarted(1, 3, WaitSource.MonitorWait, SignalBuilder.PoolStack("System.Threading.Monitor.Wait", SignalBuilder.Handler)))); // any wait
    }

    [Fact]
    public async Task A_burst_that_could_not_start_is_not_retried_before_the_pause()
    {
        var log = new SignallingWriter();
        var sut = new WaitContextOnDemand(NoSuchProcess, new SessionClock(), _ => { }, log, new SteppedTime());

        sut.Observe(ResultWait());
        await log.NextLineAsync();
        sut.Observe(ResultWait(2));
        await sut.StopAsync(); // waits for any attempt in progress

        Assert.Single(log.Lines);
        Assert.Contains("blocking waits will not say what they wait for", log.Lines[0]);
    }

    [Fact]
    public async Task After_the_pause_a_task_wait_tries_again()
    {
        var log = new SignallingWriter();
        var time = new SteppedTime();
        var sut = new WaitContextOnDemand(NoSuchProcess, new SessionClock(), _ => { }, log, time);

        sut.Observe(ResultWait());
        await log.NextLineAsync();
        time.Advance(WaitContextOnDemand.Pause + TimeSpan.FromSeconds(1));
        sut.Observe(ResultWait(2));
        await log.NextLineAsync();

        Assert.Equal(2, log.Lines.Count);
        await sut.StopAsync();
    }

    [Fact]
    public async Task Signals_that_are_not_a_blocked_pool_thread_never_open_a_session()
    {
        var log = new SignallingWriter();
        var sut = new WaitContextOnDemand(NoSuchProcess, new SessionClock(), _ => { }, log, new SteppedTime());

        sut.Observe(new WaitStarted(1, 3, WaitSource.MonitorWait, SignalBuilder.PoolStack("System.Threading.Monitor.Wait", SignalBuilder.Handler)));
        sut.Observe(new StackSample(1, 3, SampleKind.Managed, SignalBuilder.PoolStack(SignalBuilder.Handler)));
        sut.Observe(new PoolThreadSeen(2, 3));
        await sut.StopAsync();

        Assert.Empty(log.Lines);
    }

    private sealed class SteppedTime : TimeProvider
    {
        private long _ticks = 1_000_000;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }

    /// <summary>A log whose lines can be awaited, so the test waits on the notice rather than on a clock.</summary>
    private sealed class SignallingWriter : StringWriter
    {
        private readonly SemaphoreSlim _line = new(0);
        private readonly List<string> _lines = [];

        public IReadOnlyList<string> Lines
        {
            get
            {
                lock (_lines)
                {
                    return [.. _lines];
                }
            }
        }

        public override void WriteLine(string? value)
        {
            lock (_lines)
            {
                _lines.Add(value ?? "");
            }

            _line.Release();
        }

        public async Task NextLineAsync() => Assert.True(await _line.WaitAsync(TimeSpan.FromSeconds(30)), "no line was logged");
    }
}
