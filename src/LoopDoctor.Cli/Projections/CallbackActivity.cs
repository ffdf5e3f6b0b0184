namespace LoopDoctor.Cli.Projections;

/// <summary>What a pool thread did during a long callback, from the sample profiler's sample kinds.</summary>
internal enum CallbackActivity
{
    /// <summary>Computing: managed code, or native computing (hashing, compression).</summary>
    Cpu,

    /// <summary>Blocked outside managed code: Thread.Sleep, synchronous I/O.</summary>
    Blocked,
}

internal static class CallbackActivityNames
{
    /// <summary>The name reports use (<c>CallSite.Activity</c>): stable, JSON consumers match on it.</summary>
    public static string ToName(this CallbackActivity activity) => activity == CallbackActivity.Cpu ? "cpu" : "blocked";
}
