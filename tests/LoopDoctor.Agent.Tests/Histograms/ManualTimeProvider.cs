namespace LoopDoctor.Agent.Tests.Histograms;

/// <summary>A clock that moves only when told (pure-logic tests of window rotation and probe bookkeeping).</summary>
internal sealed class ManualTimeProvider(long frequency = 1_000_000_000, long start = 1_000_000_000_000) : TimeProvider
{
    private long _now = start;

    public override long TimestampFrequency { get; } = frequency;

    public override long GetTimestamp() => Interlocked.Read(ref _now);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _now, (long)(by.Ticks * (TimestampFrequency / (double)TimeSpan.TicksPerSecond)));
}
