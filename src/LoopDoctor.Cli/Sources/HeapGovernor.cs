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
        // The stop signal is the wait: no sleeping, and Dispose ends the loop at once.
        while (!_stop.Wait(Poll))
        {
            try
            {
                var allocated = GC.GetTotalAllocatedBytes();
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
                    // What a full collection keeps is what the CLI really holds (a big target's method names, say):
                    // collect again only once the heap has doubled past it, so a large live set is not compacted every 2 s.
                    ceiling = Math.Max(MinimumCeiling, 2 * GC.GetGCMemoryInfo().HeapSizeBytes);
                }
            }
            catch (Exception)
            {
                // Nothing here may take the CLI down: without the governor it only uses more memory.
                return;
            }
        }
    }

    public void Dispose()
    {
        // The event is not disposed: a governor still inside a collection may look at it once more.
        _stop.Set();
        _thread.Join(TimeSpan.FromSeconds(1));
    }
}
