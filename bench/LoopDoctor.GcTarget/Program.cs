using System.Diagnostics;
using System.Globalization;
using System.Runtime;

// T1's target: builds a live heap of about --heap-mb MB, then idles reading commands on stdin:
//   stats ID   → one line "stats id=ID gen0=… gen1=… gen2=… pause_ms=… heap_mb=…" (GC.GetTotalPauseDuration: every pause so far)
//   EOF / quit → exit
// Shapes: graph (default): a cache of small objects with references, as an app's in-memory cache is: a Dictionary<long, Entry>
// whose entries hold a short string and a reference to another entry (≈ 116 bytes and 2 objects per item);
// arrays: 1 MiB byte arrays (nothing to trace inside them: the cheap case for the GC's mark phase).

int heapMb = 50;
string shape = "graph";
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--heap-mb" when i + 1 < args.Length: heapMb = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--shape" when i + 1 < args.Length: shape = args[++i]; break;
        default:
            Console.Error.WriteLine("usage: LoopDoctor.GcTarget [--heap-mb N] [--shape graph|arrays]");
            return 2;
    }
}

var build = Stopwatch.StartNew();
object root;
long objects;
if (shape == "arrays")
{
    var chunks = new byte[heapMb][];
    for (int i = 0; i < chunks.Length; i++)
    {
        chunks[i] = new byte[1 << 20];
        chunks[i].AsSpan().Fill((byte)i);   // touch every page: resident, as real data is
    }

    root = chunks;
    objects = chunks.Length;
}
else if (shape == "graph")
{
    const int BytesPerItem = 116;   // Entry 48 B + 8-char string 40 B + dictionary entry 24 B + bucket 4 B
    int count = (int)((long)heapMb * 1024 * 1024 / BytesPerItem);
    var cache = new Dictionary<long, Entry>(count);
    Entry? previous = null;
    var random = new Random(42);
    for (int i = 0; i < count; i++)
    {
        var entry = new Entry(i, i.ToString("x8", CultureInfo.InvariantCulture), previous);
        cache.Add(i, entry);
        // Point at a random earlier entry now and then, so the graph is not one chain in allocation order.
        previous = (i & 7) == 0 && i > 0 ? cache[random.Next(i)] : entry;
    }

    root = cache;
    objects = 2L * count;
}
else
{
    Console.Error.WriteLine($"unknown shape '{shape}' (graph or arrays)");
    return 2;
}

GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
GC.WaitForPendingFinalizers();
var info = GC.GetGCMemoryInfo(GCKind.Any);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"ready pid={Environment.ProcessId} shape={shape} objects={objects} heap_mb={info.HeapSizeBytes / 1048576.0:F0} build_s={build.Elapsed.TotalSeconds:F1} server_gc={GCSettings.IsServerGC} latency_mode={GCSettings.LatencyMode}"));

while (Console.ReadLine() is { } line && line != "quit")
{
    var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
    if (parts is ["stats", var id])
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"stats id={id} gen0={GC.CollectionCount(0)} gen1={GC.CollectionCount(1)} gen2={GC.CollectionCount(2)} pause_ms={GC.GetTotalPauseDuration().TotalMilliseconds:F3} heap_mb={GC.GetTotalMemory(false) / 1048576.0:F0}"));
    }
}

GC.KeepAlive(root);
return 0;

internal sealed class Entry(long id, string name, Entry? related)
{
    public long Id = id;
    public int Hits = (int)(id & 0xff);
    public string Name = name;
    public Entry? Related = related;
}
