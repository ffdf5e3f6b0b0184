namespace LoopDoctor.Agent.Histograms;

/// <summary>
/// Converts timestamps of one clock (<see cref="TimeProvider.GetTimestamp"/> / Stopwatch ticks, whose frequency is
/// 1 GHz on Linux but 10 MHz on Windows) to and from nanoseconds, the histograms' unit. Exact integer arithmetic when
/// the frequency divides 1 GHz (every real clock), floating point otherwise.
/// </summary>
internal readonly struct TimestampScale
{
    private const long NanosecondsPerSecond = 1_000_000_000;

    private readonly long _nanosecondsPerTick;  // > 0 when exact
    private readonly double _nanosecondsPerTickDouble;

    public TimestampScale(long frequency)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(frequency);
        Frequency = frequency;
        _nanosecondsPerTick = NanosecondsPerSecond % frequency == 0 ? NanosecondsPerSecond / frequency : 0;
        _nanosecondsPerTickDouble = (double)NanosecondsPerSecond / frequency;
    }

    public long Frequency { get; }

    public long ToNanoseconds(long ticks)
        => _nanosecondsPerTick > 0 ? ticks * _nanosecondsPerTick : (long)(ticks * _nanosecondsPerTickDouble);

    public long ToTicks(TimeSpan duration) => (long)(duration.Ticks * (Frequency / (double)TimeSpan.TicksPerSecond));

    public static long ToNanoseconds(TimeSpan duration) => duration.Ticks * (NanosecondsPerSecond / TimeSpan.TicksPerSecond);

    public static TimeSpan FromNanoseconds(long nanoseconds) => TimeSpan.FromTicks(nanoseconds / (NanosecondsPerSecond / TimeSpan.TicksPerSecond));
}
