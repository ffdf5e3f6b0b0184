using System.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace BlockingApp.Scenarios;

/// <summary>
/// <c>/deadlock</c>: transfers between two accounts, each account guarded by a <c>lock</c> on itself. A transfer locks
/// the account it takes from, writes the audit record, then locks the account it pays into; requests alternate between
/// checking → savings and savings → checking, so two transfers in flight at once each hold the lock the other needs,
/// forever, and every later request queues behind them (the process must be restarted). One request at a time never
/// deadlocks. The twin takes the two locks in one order (by account number) whatever the direction.
/// </summary>
public static class DeadlockScenario
{
    private static readonly Account Checking = new(1, 1_000_000);
    private static readonly Account Savings = new(2, 1_000_000);
    private static long _requests;

    public static IResult Handle([FromQuery(Name = "fixed")] bool isFixed = false)
    {
        var started = Stopwatch.GetTimestamp();
        var (from, to) = Interlocked.Increment(ref _requests) % 2 == 0 ? (Checking, Savings) : (Savings, Checking);
        if (isFixed)
        {
            TransferInAccountOrder(from, to, 10);
        }
        else
        {
            Transfer(from, to, 10);
        }

        return ScenarioResponse.Ok("deadlock", isFixed, started, $"checking={Checking.Balance} savings={Savings.Balance}");
    }

    /// <summary>The culprit: the source's lock first, then the destination's: opposite orders for opposite directions.</summary>
    public static void Transfer(Account from, Account to, decimal amount)
    {
        lock (from)
        {
            from.Balance -= amount;
            AuditLog.Write(from, to, amount);
            lock (to)
            {
                to.Balance += amount;
            }
        }
    }

    /// <summary>The fix: the lower account number's lock first, always; the same two locks can never be taken in opposite orders.</summary>
    public static void TransferInAccountOrder(Account from, Account to, decimal amount)
    {
        var (first, second) = from.Number < to.Number ? (from, to) : (to, from);
        lock (first)
        {
            lock (second)
            {
                from.Balance -= amount;
                AuditLog.Write(from, to, amount);
                to.Balance += amount;
            }
        }
    }
}

public sealed class Account(int number, decimal balance)
{
    public int Number { get; } = number;

    public decimal Balance { get; set; } = balance;
}

internal static class AuditLog
{
    // Stands for a synchronous write to the audit store: it keeps the first lock held long enough for requests to overlap.
    public static void Write(Account from, Account to, decimal amount) => Thread.Sleep(TimeSpan.FromMilliseconds(5));
}
