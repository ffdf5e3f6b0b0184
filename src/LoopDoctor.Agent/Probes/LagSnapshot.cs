namespace LoopDoctor.Agent.Probes;

/// <summary>
/// Delays one <see cref="LagProbe"/> measured over a window, corrected for coordinated omission (a stall of
/// length D seen by a probe sampling every I counts as D, D − I, D − 2I, … down to I).
/// Percentiles are accurate to within 1% (log-linear buckets, 64 per power of two). All zero when <see cref="Count"/> is 0.
/// </summary>
/// <param name="Count">Number of samples (measured plus coordinated-omission corrections).</param>
/// <param name="P50">Median delay.</param>
/// <param name="P90">90th percentile delay.</param>
/// <param name="P99">99th percentile delay.</param>
/// <param name="P999">99.9th percentile delay.</param>
/// <param name="Max">Largest measured delay (exact).</param>
/// <param name="Window">The time span the samples come from.</param>
public sealed record LagSnapshot(long Count, TimeSpan P50, TimeSpan P90, TimeSpan P99, TimeSpan P999, TimeSpan Max, TimeSpan Window);
