using System.Diagnostics;

namespace LoopDoctor.Cli.Sources;

/// <summary>
/// Keeps the CLI's footprint near what it actually holds while it reads a live session: TraceEvent's reader allocates
/// per event, and the GC's default budgets let the heap grow to several times the live objects (figures: P7 in
/// docs/benchmarks.md). From its own thread (never the pool's): a gen0 collection after every <see cref="Gen0Budget"/>
/// allocated, and a compacting full collection when the committed heap passes twice what the last one kept (at least
/// <see cref="MinimumCeiling"/>, at most every <see cref="FullCollectionInterval"/>). LOOPDOCTOR_HEAP_GOVERNOR=0 turns it off.
/// </summary>
internal sealed class HeapGovernor : IDisposable
{
    public const long Gen0Budget = 4L << 20;
    public const long MinimumCeiling = 40L << 20;
    public static readonly TimeSpan FullCollectionInterval = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);

    // While the CLI allocates little (a sidecar watching quiet processes), every wake-up is pure cost: 20 a second were a
    // fifth of an idle fleet monitor's CPU (P9). It looks ten times less often until a look finds this much allocated.
    private static readonly TimeSpan IdlePoll = TimeSpan.FromMilliseconds(500);
    private const long BusyFromBytes = 512L << 10;

    // No spinning before each 50 ms wait: a spinning wait showed as a fifth of the CLI's managed CPU samples at idle.
    private readonly ManualResetEventSlim _stop = new(initialState: false, spinCount: 0);
    private readonly Thread _thread;

    private HeapGovernor()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "loopdoctor heap governor" };
        _thread.Start();
    }

    /// <summary>Starts a governor unless LOOPDOCTOR_HEAP_GOVERNOR=0.</summary>
    public static HeapGovernor? Start() =>
        Environment.GetEnvironmentVariable("LOOPDOCTOR_HEAP_GOVERNOR") == "0" ? null : new HeapGovernor();

    private void Run()
    {
        var sinceFull = Stopwatch.StartNew();
        long ceiling = MinimumCeiling;
        int gen0Count = GC.CollectionCount(0);
        long allocatedAtGen0 = GC.GetTotalAllocatedBytes();
        long allocatedAtLastLook = allocatedAtGen0;
        var poll = Poll;
        // The stop signal is the wait: no sleeping, and Dispose ends the loop at once.
        while (!_stop.Wait(poll))
        {
            try
            {
                var allocated = GC.GetTotalAllocatedBytes();
                poll = NextPoll(allocated - allocatedAtLastLook);
                allocatedAtLastLook = allocated;
                var count = GC.CollectionCount(0);
                if (count != gen0Count)
                {
                    // The GC collected on its own since the last look: count the budget from there.
                    gen0Count = count;
                    allocatedAtGen0 = allocated;
                }
                else if (allocated - allocatedAtGen0 >= Gen0Budget)
                {
                    GC.Collect(0, GCCollectionMode.Forced, blocking: true);
                    gen0Count = GC.CollectionCount(0);
                    allocatedAtGen0 = allocated;
                }

                if (sinceFull.Elapsed >= FullCollectionInterval && GC.GetGCMemoryInfo().TotalCommittedBytes > ceiling)
                {
                    GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                    sinceFull.Restart();
                    // What a full collection leaves committed is what the CLI really needs (a big target's method names,
                    // the GC's own budgets): collect again only once that has doubled. Measured against the heap size
                    // alone, the committed memory stayed over the ceiling and an idle monitor compacted every 2 s.
                    ceiling = Math.Max(MinimumCeiling, 2 * GC.GetGCMemoryInfo().TotalCommittedBytes);
                }
            }
            catch (Exception)
            {
                // Nothing here may take the CLI down: without the governor it only uses more memory.
                return;
            }
        }
    }

    /// <summary>How long to wait before the next look, given what the CLI allocated since the last one.</summary>
    internal static TimeSpan NextPoll(long allocatedSinceLastLook) => allocatedSinceLastLook >= BusyFromBytes ? Poll : IdlePoll;

    public void Dispose()
    {
        // The event is not disposed: a governor still inside a collection may look at it once more.
        _stop.Set();
        _thread.Join(TimeSpan.FromSeconds(1));
    }
}
