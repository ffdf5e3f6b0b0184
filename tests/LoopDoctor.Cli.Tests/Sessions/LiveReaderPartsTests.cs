using LoopDoctor.Cli.Sources;
using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Tests.Sessions;

/// <summary>
/// The pure parts that keep a live session light: sample runs, the on-lag sampler's bursts, the heap governor's
/// lifecycle (real sessions run them in OnDemandSamplingTests and the other integration tests; P7 measures the effect).
/// </summary>
public class LiveReaderPartsTests
{
    private static readonly CallStack Parked = new(["System.Threading.Monitor.Wait(object,int)", "App.Orders.Get()", "System.Threading.ThreadPoolWorkQueue.Dispatch()"]);
    private static readonly CallStack ParkedAgain = new(["System.Threading.Monitor.Wait(object,int)", "App.Orders.Get()", "System.Threading.ThreadPoolWorkQueue.Dispatch()"]);
    private static readonly CallStack Busy = new(["App.Orders.Hash()", "App.Orders.Get()", "System.Threading.ThreadPoolWorkQueue.Dispatch()"]);

    [Fact]
    public void Identical_consecutive_samples_of_a_thread_become_one_run_with_their_count_and_span()
    {
        var emitted = new List<StackSample>();
        var runs = new SampleRunCollapser(emitted.Add);
        runs.Add(100, 7, SampleKind.External, Parked);
        runs.Add(101, 7, SampleKind.External, ParkedAgain); // equal frames, another object (the stack cache is renewed)
        runs.Add(101, 8, SampleKind.Managed, Busy);
        runs.Add(102, 7, SampleKind.External, Parked);
        Assert.Empty(emitted);

        runs.Add(103, 7, SampleKind.Managed, Busy);           // thread 7 changed stack: its run ends
        var first = Assert.Single(emitted);
        Assert.Equal((7, 3, 100.0, 102.0, SampleKind.External), (first.ThreadId, first.Count, first.TimestampMs, first.LastTimestampMs, first.Kind));

        runs.Flush();
        Assert.Equal(3, emitted.Count);
        Assert.Equal(5, emitted.Sum(s => s.Count));
        Assert.Equal((5, 3), (runs.SamplesIn, runs.SamplesOut));
    }

    [Fact]
    public void A_run_is_cut_at_its_longest_so_a_thread_stuck_for_minutes_is_still_heard_of()
    {
        var emitted = new List<StackSample>();
        var runs = new SampleRunCollapser(emitted.Add);
        for (var t = 0.0; t < 1000; t++)
        {
            runs.Add(t, 7, SampleKind.External, Parked);
        }

        Assert.Equal(3, emitted.Count);                        // 0–249, 250–499, 500–749 emitted; 750–999 still open
        Assert.All(emitted, s => Assert.Equal(250, s.Count));
        Assert.True(emitted[^1].LastTimestampMs - emitted[0].TimestampMs < 750);
    }

    [Fact]
    public void A_thread_that_goes_quiet_is_swept_and_another_signal_of_the_thread_ends_its_run()
    {
        var emitted = new List<StackSample>();
        var runs = new SampleRunCollapser(emitted.Add);
        runs.Add(0, 7, SampleKind.External, Parked);
        runs.Add(1, 8, SampleKind.External, Parked);
        runs.End(8);                                           // e.g. thread 8 dequeued its next work item
        Assert.Equal(8, Assert.Single(emitted).ThreadId);

        for (var t = 2.0; t < 600; t++)
        {
            runs.Add(t, 9, SampleKind.Managed, Busy);          // thread 7 is never sampled again
        }

        Assert.Contains(emitted, s => s.ThreadId == 7 && s.Count == 1);
        runs.End(42);                                          // no run: nothing happens
        Assert.DoesNotContain(emitted, s => s.ThreadId == 42);
    }

    [Fact]
    public void The_sampler_runs_in_bursts_while_the_trouble_lasts()
    {
        var time = new SteppedTime();
        var schedule = new SamplingSchedule(time);
        Assert.Equal(SamplingDecision.None, schedule.Observe(lag: false));
        Assert.Equal(SamplingDecision.Start, schedule.Observe(lag: true));
        time.Advance(SamplingSchedule.BurstLength - TimeSpan.FromSeconds(1));
        Assert.Equal(SamplingDecision.None, schedule.Observe(lag: false));     // a burst runs its length, lag or not
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(SamplingDecision.Stop, schedule.Observe(lag: true));

        // Paused: lag does not restart it until the pause is over; after it, only lag does.
        time.Advance(SamplingSchedule.BurstPause - TimeSpan.FromSeconds(1));
        Assert.Equal(SamplingDecision.None, schedule.Observe(lag: true));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(SamplingDecision.None, schedule.Observe(lag: false));
        Assert.Equal(SamplingDecision.None, schedule.Observe(lag: true, canAct: false)); // still stopping: wait
        Assert.Equal(SamplingDecision.Start, schedule.Observe(lag: true));
        Assert.Equal(SamplingDecision.None, schedule.Observe(lag: true));
    }

    [Fact]
    public void The_first_look_at_attach_is_short_and_holds_back_no_incident()
    {
        var time = new SteppedTime();
        var schedule = new SamplingSchedule(time);
        Assert.Equal(SamplingDecision.Start, schedule.FirstLook());
        Assert.Equal(SamplingDecision.None, schedule.FirstLook());              // one look at a time
        time.Advance(SamplingSchedule.FirstLookLength - TimeSpan.FromMilliseconds(100));
        Assert.Equal(SamplingDecision.None, schedule.Observe(lag: true));
        time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal(SamplingDecision.Stop, schedule.Observe(lag: false));

        // No pause after it: the next sign of lag starts a full burst at once.
        Assert.Equal(SamplingDecision.Start, schedule.Observe(lag: true));
        time.Advance(SamplingSchedule.FirstLookLength);
        Assert.Equal(SamplingDecision.None, schedule.Observe(lag: false));     // a full burst, not the look's length
        time.Advance(SamplingSchedule.BurstLength);
        Assert.Equal(SamplingDecision.Stop, schedule.Observe(lag: false));
        Assert.Equal(SamplingDecision.None, schedule.Observe(lag: true));      // and its pause
    }

    [Fact]
    public void A_failed_start_can_be_retried_at_the_next_sign_of_lag()
    {
        var schedule = new SamplingSchedule(new SteppedTime());
        Assert.Equal(SamplingDecision.Start, schedule.Observe(lag: true));
        schedule.NotRunning();
        Assert.Equal(SamplingDecision.None, schedule.Observe(lag: false));
        Assert.Equal(SamplingDecision.Start, schedule.Observe(lag: true));
    }

    [Fact]
    public void The_heap_governor_runs_on_its_own_thread_until_disposed_and_can_be_turned_off()
    {
        var governor = HeapGovernor.Start();
        Assert.NotNull(governor);
        var thread = FindThread("loopdoctor heap governor");
        Assert.True(thread, "the governor's dedicated thread is running");
        governor!.Dispose();

        var previous = Environment.GetEnvironmentVariable("LOOPDOCTOR_HEAP_GOVERNOR");
        Environment.SetEnvironmentVariable("LOOPDOCTOR_HEAP_GOVERNOR", "0");
        try
        {
            Assert.Null(HeapGovernor.Start());
        }
        finally
        {
            Environment.SetEnvironmentVariable("LOOPDOCTOR_HEAP_GOVERNOR", previous);
        }
    }

    [Fact]
    public void The_heap_governor_looks_often_only_while_the_CLI_allocates()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(500), HeapGovernor.NextPoll(0));
        Assert.Equal(TimeSpan.FromMilliseconds(500), HeapGovernor.NextPoll(100_000));
        Assert.Equal(TimeSpan.FromMilliseconds(50), HeapGovernor.NextPoll(4L << 20));
    }

    // Linux names threads in /proc/self/task/*/comm (15 characters).
    private static bool FindThread(string name) =>
        !OperatingSystem.IsLinux() ||
        Directory.EnumerateDirectories("/proc/self/task").Any(task =>
            File.Exists(Path.Combine(task, "comm")) && File.ReadAllText(Path.Combine(task, "comm")).Trim() == name[..15]);

    private sealed class SteppedTime : TimeProvider
    {
        private long _ticks = 1_000_000;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
