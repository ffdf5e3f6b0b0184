namespace StallTarget;

/// <summary>The deadlock, hung-wait and busy-lock workloads: a transfer service whose two transfers take the accounts' locks in opposite orders.</summary>
internal static class Deadlocks
{
    public static Action? For(string workload) => workload switch
    {
        "deadlock-pool" => () => new TransferService().DeadlockOnPool(),
        "deadlock-threads" => () => new TransferService().DeadlockOnThreads(),
        "deadlock-lock" => () => new LedgerService().DeadlockOnPool(),
        "hung-wait" => () => new ConfigurationCache().StartRequestsThatWaitForIt(),
        "busy-lock" => () => new TransferService().BusyWithoutCycle(),
        "snapshot-bench" => SnapshotBench.Start,
        _ => null,
    };
}

/// <summary>Transfers between two accounts, each guarded by a <c>lock</c> on its own object.</summary>
internal sealed class TransferService
{
    private readonly object _checking = new();
    private readonly object _savings = new();
    private readonly Barrier _bothHoldTheirFirstLock = new(2);
    private long _balance;

    /// <summary>Two transfers on pool threads in opposite directions, then requests that queue behind the first lock.</summary>
    public void DeadlockOnPool()
    {
        _ = Task.Run(() => Transfer(_checking, _savings));
        _ = Task.Run(() => Transfer(_savings, _checking));
        QueueStatements();
    }

    /// <summary>The same on dedicated threads (a background worker each), not the pool.</summary>
    public void DeadlockOnThreads()
    {
        new Thread(() => Transfer(_checking, _savings)) { IsBackground = true, Name = "checking-to-savings" }.Start();
        new Thread(() => Transfer(_savings, _checking)) { IsBackground = true, Name = "savings-to-checking" }.Start();
        QueueStatements();
    }

    /// <summary>The control: many short transfers, always in the same order: contention, but no cycle.</summary>
    public void BusyWithoutCycle()
    {
        for (var i = 0; i < 4; i++)
        {
            _ = Task.Factory.StartNew(() =>
            {
                while (true)
                {
                    lock (_checking)
                    {
                        lock (_savings)
                        {
                            _balance++;
                            Thread.SpinWait(20_000);
                        }
                    }
                }
            }, TaskCreationOptions.LongRunning);
        }
    }

    /// <summary>The deadlock on dedicated threads, and <paramref name="statements"/> more dedicated threads queued behind it.</summary>
    public void DeadlockWithQueue(int statements)
    {
        DeadlockOnThreads();
        for (var i = 0; i < statements; i++)
        {
            new Thread(PrintStatement) { IsBackground = true }.Start();
        }
    }

    private void Transfer(object from, object to)
    {
        lock (from)
        {
            _bothHoldTheirFirstLock.SignalAndWait();
            lock (to)
            {
                _balance++;
            }
        }
    }

    // A statement request every 200 ms reads the checking account: each one queues behind the deadlock, forever.
    private void QueueStatements() => _ = Task.Run(async () =>
    {
        for (var i = 0; i < 3; i++)
        {
            await Task.Delay(200);
            _ = Task.Run(PrintStatement);
        }
    });

    private void PrintStatement()
    {
        lock (_checking)
        {
            Console.WriteLine($"statement balance={_balance}");
        }
    }
}

/// <summary>The same deadlock with <see cref="System.Threading.Lock"/> (C# 13 <c>lock</c> on a Lock).</summary>
internal sealed class LedgerService
{
    private readonly Lock _ledger = new();
    private readonly Lock _journal = new();
    private readonly Barrier _bothHoldTheirFirstLock = new(2);
    private long _entries;

    public void DeadlockOnPool()
    {
        _ = Task.Run(() => Post(_ledger, _journal));
        _ = Task.Run(() => Post(_journal, _ledger));
    }

    private void Post(Lock first, Lock second)
    {
        lock (first)
        {
            _bothHoldTheirFirstLock.SignalAndWait();
            lock (second)
            {
                _entries++;
            }
        }
    }
}

/// <summary>Requests wait for a configuration that never finishes loading (its loader failed, and nobody sets the event).</summary>
internal sealed class ConfigurationCache
{
    private readonly ManualResetEventSlim _loaded = new();

    public void StartRequestsThatWaitForIt()
    {
        for (var i = 0; i < 3; i++)
        {
            _ = Task.Run(ReadSetting);
        }
    }

    private string ReadSetting()
    {
        _loaded.Wait();
        return "value";
    }
}
