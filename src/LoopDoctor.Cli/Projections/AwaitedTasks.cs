using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Projections;

/// <summary>
/// What a synchronous wait on a task waits for, from the TPL's own events: the task a thread blocked on
/// (<see cref="TaskWaitStarted"/>, synchronous), the operation that created it (<see cref="AsyncOperationStarted"/>: an
/// async method or a promise such as Task.Delay) and, through the awaits seen since, what that method awaits in turn.
/// A wait is matched to the latest synchronous task wait its thread began shortly before it: the runtime writes
/// TaskWaitBegin, spins, then blocks. Tasks created before the TPL events were on have no name, and then none is given.
/// </summary>
internal sealed class AwaitedTasks : IProjection
{
    /// <summary>Task names and await links kept (oldest forgotten first): the tasks of the waits in flight are recent.</summary>
    public const int MaxTasks = 16_384;

    // The runtime begins a blocking wait within microseconds of TaskWaitBegin (it spins first); a second covers a long spin
    // and two sessions' clocks, and is short enough that an older, finished wait of the thread is not taken for this one.
    private const double MatchWindowMs = 1000;

    // The two sessions' clocks are shifted onto one with an error well under this.
    private const double ClockSlackMs = 5;

    private const int WaitsPerThread = 4;
    private const int MaxChain = 3;

    private readonly BoundedMap<int, string> _names = new(MaxTasks);
    private readonly BoundedMap<int, int> _awaits = new(MaxTasks);
    private readonly Dictionary<int, List<(double TimestampMs, int TaskId)>> _syncWaits = [];

    /// <summary>Whether any TPL task event arrived: without them no wait can say what it waits for.</summary>
    public bool EventsSeen { get; private set; }

    public void Observe(Signal signal)
    {
        switch (signal)
        {
            case AsyncOperationStarted operation:
                EventsSeen = true;
                _names.Set(operation.TaskId, operation.OperationName);
                break;
            case TaskWaitStarted { Behavior: TaskWaitBehavior.Asynchronous, ContinueWithTaskId: not 0 } awaiting:
                EventsSeen = true;
                _awaits.Set(awaiting.ContinueWithTaskId, awaiting.TaskId);
                break;
            case TaskWaitStarted { Behavior: TaskWaitBehavior.Synchronous } wait:
                EventsSeen = true;
                if (!_syncWaits.TryGetValue(wait.ThreadId, out var waits))
                {
                    if (_syncWaits.Count >= MaxTasks)
                    {
                        _syncWaits.Clear();
                    }

                    _syncWaits[wait.ThreadId] = waits = new List<(double, int)>(WaitsPerThread);
                }

                if (waits.Count == WaitsPerThread)
                {
                    waits.RemoveAt(0);
                }

                waits.Add((wait.TimestampMs, wait.TaskId));
                break;
        }
    }

    /// <summary>
    /// What the wait that began on <paramref name="threadId"/> at <paramref name="waitStartedMs"/> waits for: the operation
    /// it blocks on first, then what that one awaits (e.g. ["FindByNameAsync", "Task.Delay"]); null when not known.
    /// </summary>
    public IReadOnlyList<string>? AwaitsAt(int threadId, double waitStartedMs)
    {
        if (!_syncWaits.TryGetValue(threadId, out var waits))
        {
            return null;
        }

        for (var i = waits.Count - 1; i >= 0; i--)
        {
            var (at, taskId) = waits[i];
            if (at > waitStartedMs + ClockSlackMs)
            {
                continue;
            }

            return at < waitStartedMs - MatchWindowMs ? null : Chain(taskId);
        }

        return null;
    }

    /// <summary><paramref name="site"/> with what its wait waits for, when the wait is on a task and that is known.</summary>
    public Attribution WithAwaits(Attribution site, string? api, int threadId, double waitStartedMs) =>
        IsTaskWait(api) && AwaitsAt(threadId, waitStartedMs) is { } awaits ? site with { Awaits = awaits } : site;

    private List<string>? Chain(int taskId)
    {
        List<string>? chain = null;
        for (var id = taskId; chain is null || chain.Count < MaxChain; )
        {
            if (!_names.TryGet(id, out var name))
            {
                break;
            }

            (chain ??= []).Add(OperationName(name));
            if (!_awaits.TryGet(id, out id))
            {
                break;
            }
        }

        return chain;
    }

    /// <summary>
    /// Whether a wait in <paramref name="api"/> can be a wait on a task: the task-wait APIs, and a wait whose framework
    /// frames did not resolve (a task wait then shows only as Monitor.Wait, or nothing).
    /// </summary>
    public static bool IsTaskWait(string? api) =>
        api is null or ".Result" or ".Wait()" or CallStack.InlinedTaskWait or "GetAwaiter().GetResult()" or "Monitor.Wait";

    /// <summary>"Async: &lt;FindByNameAsync&gt;d__2" → "FindByNameAsync" (the compiler's state machine names its method); others as given.</summary>
    public static string OperationName(string operation)
    {
        const string asyncPrefix = "Async: ";
        var name = operation.StartsWith(asyncPrefix, StringComparison.Ordinal) ? operation[asyncPrefix.Length..] : operation;
        if (name.StartsWith('<') && name.LastIndexOf('>') is var close and > 1)
        {
            return name[1..close];
        }

        return name;
    }

    /// <summary>A dictionary that forgets its oldest keys beyond a capacity.</summary>
    private sealed class BoundedMap<TKey, TValue>(int capacity) where TKey : notnull
    {
        private readonly Dictionary<TKey, TValue> _map = [];
        private readonly Queue<TKey> _order = new();

        public void Set(TKey key, TValue value)
        {
            if (_map.TryAdd(key, value))
            {
                _order.Enqueue(key);
                if (_order.Count > capacity)
                {
                    _map.Remove(_order.Dequeue());
                }
            }
            else
            {
                _map[key] = value;
            }
        }

        public bool TryGet(TKey key, out TValue value) => _map.TryGetValue(key, out value!);
    }
}
