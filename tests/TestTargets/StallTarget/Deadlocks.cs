namespace StallTarget;

internal static class Deadlocks
{
    public static Action? For(string workload) => null;
}
