using Microsoft.Diagnostics.Runtime;

namespace LoopDoctor.Cli.Snapshots;

/// <summary>
/// Reads a dump with ClrMD: every managed thread's stack, the monitors held (sync blocks) and the
/// <see cref="System.Threading.Lock"/>s held, who waits for which, and the field or static that references each lock.
/// On Linux ClrMD does not download the DAC: the target's own <c>libmscordaccore.so</c>, beside its <c>libcoreclr.so</c>,
/// is loaded instead (the runtime that wrote the dump is installed here, or it could not have been attached).
/// </summary>
internal static class DumpReader
{
    private const int MaxFramesPerThread = 64;

    /// <param name="threadNames">The OS name of a thread (Linux: /proc/PID/task/TID/comm), read while the target still ran.</param>
    public static (IReadOnlyList<SnapshotThread> Threads, IReadOnlyList<SnapshotLock> Locks) Read(string dumpPath, Func<int, string?> threadNames)
    {
        using var target = DataTarget.LoadDump(dumpPath);
        if (target.ClrVersions.Length == 0)
        {
            throw new InvalidOperationException("the dump holds no .NET runtime");
        }

        var clr = target.ClrVersions[0];
        var dac = Path.Combine(Path.GetDirectoryName(clr.ModuleInfo.FileName) ?? "", OperatingSystem.IsWindows() ? "mscordaccore.dll" : OperatingSystem.IsMacOS() ? "libmscordaccore.dylib" : "libmscordaccore.so");
        using var runtime = File.Exists(dac) ? clr.CreateRuntime(dac, ignoreMismatch: true) : clr.CreateRuntime();
        var heap = runtime.Heap;
        var threadsByAddress = runtime.Threads.Where(t => t.IsAlive).ToDictionary(t => t.Address);
        var osIds = runtime.Threads.Where(t => t.IsAlive).Select(t => (int)t.OSThreadId).ToHashSet();
        var osIdOfManaged = runtime.Threads.Where(t => t.IsAlive).GroupBy(t => t.ManagedThreadId).ToDictionary(g => g.Key, g => (int)g.First().OSThreadId);

        var locks = new Dictionary<ulong, SnapshotLock>();
        foreach (var syncBlock in heap.EnumerateSyncBlocks())
        {
            if (syncBlock.IsMonitorHeld && threadsByAddress.TryGetValue(syncBlock.HoldingThreadAddress, out var owner))
            {
                var type = heap.GetObjectType(syncBlock.Object)?.Name ?? "(unknown type)";
                locks[syncBlock.Object] = new SnapshotLock(syncBlock.Object, type, SnapshotLockKind.Monitor, (int)owner.OSThreadId, syncBlock.WaitingThreadCount, null);
            }
        }

        var threads = new List<SnapshotThread>();
        var stackObjects = new Dictionary<int, List<ClrObject>>();
        foreach (var thread in runtime.Threads.Where(t => t.IsAlive))
        {
            var frames = thread.EnumerateStackTrace()
                .Where(f => f.Method is not null)
                .Take(MaxFramesPerThread)
                .Select(f => Signals.CallStack.NormalizeMethodName($"{f.Method!.Type?.Name}.{f.Method.Name}"))
                .ToList();
            var objects = new List<ClrObject>();
            foreach (var root in thread.EnumerateStackRoots())
            {
                if (root.Object.IsValid)
                {
                    objects.Add(root.Object);
                    // A System.Threading.Lock held by someone: its owner is in the object, not in a sync block.
                    // Its _owningThreadId is the OS thread id on .NET 10 (measured on Linux); a managed id is accepted too.
                    if (root.Object.Type?.Name == "System.Threading.Lock" && !locks.ContainsKey(root.Object.Address)
                        && root.Object.TryReadField<uint>("_owningThreadId", out var owningId) && owningId != 0
                        && (osIds.Contains((int)owningId) ? (int)owningId : osIdOfManaged.GetValueOrDefault((int)owningId)) is var ownerOsId and not 0)
                    {
                        locks[root.Object.Address] = new SnapshotLock(root.Object.Address, "System.Threading.Lock", SnapshotLockKind.Lock, ownerOsId, 0, null);
                    }
                }
            }

            stackObjects[(int)thread.OSThreadId] = objects;
            var name = threadNames((int)thread.OSThreadId);
            threads.Add(new SnapshotThread((int)thread.OSThreadId, thread.ManagedThreadId, name, name is ".NET TP Worker" or ".NET ThreadPool Worker" || frames.Any(IsPoolDispatch), frames, null));
        }

        // A thread entering a lock waits for the held lock its stack references that another thread owns.
        var result = threads.Select(t => IsEnteringLock(t.Frames)
            ? t with
            {
                WaitsFor = stackObjects[t.OsThreadId].Select(o => o.Address).Distinct()
                    .Where(a => locks.TryGetValue(a, out var l) && l.OwnerOsThreadId != t.OsThreadId)
                    .Select(a => (ulong?)a)
                    .FirstOrDefault(),
            }
            : t).ToList();
        var waiters = result.Where(t => t.WaitsFor is not null).GroupBy(t => t.WaitsFor!.Value).ToDictionary(g => g.Key, g => g.Count());
        var named = locks.Values.Select(l => l with
        {
            Waiters = l.Kind == SnapshotLockKind.Lock ? waiters.GetValueOrDefault(l.Address) : Math.Max(l.Waiters, waiters.GetValueOrDefault(l.Address)),
            HeldIn = HolderOf(runtime, l.Address, stackObjects.Values.SelectMany(o => o)),
        }).ToList();
        return (result, named);
    }

    /// <summary>The application static, or the instance field of an object on a stack, that references the lock object.</summary>
    private static string? HolderOf(ClrRuntime runtime, ulong address, IEnumerable<ClrObject> stackObjects)
    {
        foreach (var obj in stackObjects.DistinctBy(o => o.Address))
        {
            if (obj.Type is not { } type || IsFrameworkType(type.Name))
            {
                continue;
            }

            foreach (var field in type.Fields.Where(f => f.IsObjectReference))
            {
                if (field.ReadObject(obj.Address, interior: false).Address == address)
                {
                    return $"{type.Name}.{field.Name}";
                }
            }
        }

        var domain = runtime.AppDomains.FirstOrDefault();
        if (domain is null)
        {
            return null;
        }

        foreach (var module in runtime.EnumerateModules().Where(m => !IsFrameworkModule(m.Name)))
        {
            foreach (var type in module.EnumerateTypesWithStaticFields())
            {
                foreach (var field in type.StaticFields.Where(f => f.IsObjectReference))
                {
                    if (field.IsInitialized(domain) && field.ReadObject(domain).Address == address)
                    {
                        return $"{type.Name}.{field.Name} (static)";
                    }
                }
            }
        }

        return null;
    }

    private static bool IsEnteringLock(IReadOnlyList<string> frames) =>
        frames.Take(6).Any(f => f.StartsWith("System.Threading.Monitor.", StringComparison.Ordinal) && f.Contains("Enter", StringComparison.Ordinal)
                                || f.StartsWith("System.Threading.Lock.Enter", StringComparison.Ordinal)
                                || f.StartsWith("System.Threading.Lock.TryEnter", StringComparison.Ordinal));

    private static bool IsPoolDispatch(string frame) =>
        frame is "System.Threading.ThreadPoolWorkQueue.Dispatch" or "System.Threading.PortableThreadPool+WorkerThread.WorkerThreadStart";

    private static bool IsFrameworkType(string? name) => name is null || name.StartsWith("System.", StringComparison.Ordinal) || name.StartsWith("Microsoft.", StringComparison.Ordinal);

    private static bool IsFrameworkModule(string? path) =>
        path is null || Path.GetFileName(path) is var file && (file.StartsWith("System.", StringComparison.Ordinal) || file.StartsWith("Microsoft.", StringComparison.Ordinal)
                                                                 || file.StartsWith("LoopDoctor.", StringComparison.Ordinal) || file == "netstandard.dll");
}
