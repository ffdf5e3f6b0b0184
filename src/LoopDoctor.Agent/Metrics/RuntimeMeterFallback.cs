using System.Diagnostics.Metrics;

namespace LoopDoctor.Agent.Metrics;

/// <summary>
/// On .NET 8, which has no built-in <c>System.Runtime</c> meter (it came with .NET 9), the agent publishes the part of it
/// that public APIs can read — the same APIs the runtime's own EventCounters and .NET 9's meter read — under the same
/// meter, instrument names, units and kinds, so /metrics and dashboards show the same series on every runtime. What it
/// cannot read without more listeners (exceptions, JIT, GC pauses, CPU time) is named by <see cref="Missing"/>.
/// </summary>
internal sealed class RuntimeMeterFallback : IDisposable
{
    /// <summary>The first runtime with a built-in System.Runtime meter.</summary>
    public const int BuiltInFromMajor = 9;

    public const string Missing = "dotnet.exceptions, dotnet.jit.*, dotnet.gc.pause.time, dotnet.process.cpu.time";

    private readonly Meter _meter;

    private RuntimeMeterFallback()
    {
        _meter = new Meter("System.Runtime");
        _meter.CreateObservableUpDownCounter("dotnet.thread_pool.thread.count", () => (long)ThreadPool.ThreadCount, "{thread}",
            "The number of thread pool threads that currently exist.");
        _meter.CreateObservableCounter("dotnet.thread_pool.work_item.count", () => ThreadPool.CompletedWorkItemCount, "{work_item}",
            "The number of work items that the thread pool has completed since the process start.");
        _meter.CreateObservableUpDownCounter("dotnet.thread_pool.queue.length", () => ThreadPool.PendingWorkItemCount, "{work_item}",
            "The number of work items that are currently queued to be processed by the thread pool.");
        _meter.CreateObservableCounter("dotnet.monitor.lock_contentions", () => Monitor.LockContentionCount, "{contention}",
            "The number of times there was contention when trying to acquire a monitor lock since the process start.");
        _meter.CreateObservableUpDownCounter("dotnet.timer.count", () => Timer.ActiveCount, "{timer}",
            "The number of timer instances that are currently active.");
        _meter.CreateObservableUpDownCounter("dotnet.assembly.count", () => (long)AppDomain.CurrentDomain.GetAssemblies().Length, "{assembly}",
            "The number of .NET assemblies that are currently loaded.");
        _meter.CreateObservableUpDownCounter("dotnet.process.cpu.count", () => (long)Environment.ProcessorCount, "{cpu}",
            "The number of processors available to the process.");
        _meter.CreateObservableUpDownCounter("dotnet.process.memory.working_set", () => Environment.WorkingSet, "By",
            "The number of bytes of physical memory mapped to the process context.");
        _meter.CreateObservableCounter("dotnet.gc.heap.total_allocated", () => GC.GetTotalAllocatedBytes(), "By",
            "The approximate number of bytes allocated on the managed GC heap since the process start.");
        _meter.CreateObservableCounter("dotnet.gc.collections", ObserveCollections, "{collection}",
            "The number of garbage collections that have occurred since the process start.");
    }

    /// <summary>Null where the runtime has its own System.Runtime meter (.NET 9+).</summary>
    public static RuntimeMeterFallback? StartIfNeeded(Version runtime)
        => runtime.Major >= BuiltInFromMajor ? null : new RuntimeMeterFallback();

    internal Meter Meter => _meter;

    public void Dispose() => _meter.Dispose();

    // As .NET 9 counts them: a gen2 collection also collects gen0 and 1, so each generation's count excludes the older ones'.
    private static IEnumerable<Measurement<long>> ObserveCollections()
    {
        var max = GC.MaxGeneration;
        var measurements = new Measurement<long>[max + 1];
        for (var gen = 0; gen <= max; gen++)
        {
            var older = gen < max ? GC.CollectionCount(gen + 1) : 0;
            measurements[gen] = new Measurement<long>(GC.CollectionCount(gen) - older,
                new KeyValuePair<string, object?>("gc.heap.generation", gen switch { 0 => "gen0", 1 => "gen1", _ => "gen2" }));
        }

        return measurements;
    }
}
