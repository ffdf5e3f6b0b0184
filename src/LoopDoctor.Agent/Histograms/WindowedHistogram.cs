namespace LoopDoctor.Agent.Histograms;

/// <summary>
/// A sliding-window histogram: a ring of <see cref="LogLinearHistogram"/> slots (default 1 s each, enough for a
/// 60 s window) plus a cumulative total. Recording is lock-free and allocation-free; snapshots allocate.
/// <para>
/// Time comes from a <see cref="TimeProvider"/> timestamp (the probes pass the timestamp they already read, so a
/// record costs no extra clock read). Each slot remembers the slot number ("epoch" = timestamp / slot length) it
/// holds. The first recorder to reach a slot holding an older epoch claims it by compare-exchange to a
/// <c>Resetting</c> marker, clears it and publishes the new epoch; recorders arriving meanwhile spin for that
/// microsecond. A recorder stalled for a whole ring turn (≥ 61 s between reading the clock and recording) could
/// land one sample in a newer slot; that is accepted. Samples older than what a slot now holds go to the total only.
/// </para>
/// <para>
/// Memory: (slots + 1) × 16.5 KiB ≈ 1 MiB for the default 61 slots.
/// </para>
/// </summary>
internal sealed class WindowedHistogram
{
    private const long Resetting = -1;
    private const long Unused = -2;

    private readonly TimeProvider _timeProvider;
    private readonly LogLinearHistogram[] _slots;
    private readonly long[] _slotEpochs;
    private readonly long _slotTicks;
    private readonly long _startTimestamp;

    /// <param name="timeProvider">Clock for slot rotation; <see cref="TimeProvider.System"/> in production.</param>
    /// <param name="slotDuration">Length of one slot (window granularity). Default 1 s.</param>
    /// <param name="maxWindow">Longest window <see cref="GetSnapshot"/> accepts. Default 60 s.</param>
    public WindowedHistogram(TimeProvider? timeProvider = null, TimeSpan? slotDuration = null, TimeSpan? maxWindow = null)
    {
        _timeProvider = timeProvider ?? TimeProvider.System;
        SlotDuration = slotDuration ?? TimeSpan.FromSeconds(1);
        MaxWindow = maxWindow ?? TimeSpan.FromSeconds(60);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(SlotDuration, TimeSpan.Zero, nameof(slotDuration));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxWindow, SlotDuration, nameof(maxWindow));

        Scale = new TimestampScale(_timeProvider.TimestampFrequency);
        _slotTicks = Math.Max(1, Scale.ToTicks(SlotDuration));
        // A window of W covers the current (partial) slot plus the ⌈W/slot⌉ before it, so one more slot than W/slot.
        int slotCount = (int)Math.Ceiling(MaxWindow / SlotDuration) + 1;
        _slots = new LogLinearHistogram[slotCount];
        _slotEpochs = new long[slotCount];
        for (int i = 0; i < slotCount; i++)
        {
            _slots[i] = new LogLinearHistogram();
            _slotEpochs[i] = Unused;
        }

        _startTimestamp = _timeProvider.GetTimestamp();
    }

    public TimeSpan SlotDuration { get; }

    public TimeSpan MaxWindow { get; }

    /// <summary>The clock's timestamp ↔ nanosecond conversion.</summary>
    public TimestampScale Scale { get; }

    /// <summary>Everything recorded since construction.</summary>
    public LogLinearHistogram Total { get; } = new();

    internal int SlotCount => _slots.Length;

    /// <summary>Records a value now.</summary>
    public void Record(long value) => Record(value, _timeProvider.GetTimestamp());

    /// <summary>Records a value observed at <paramref name="timestamp"/> (a timestamp of this histogram's <see cref="TimeProvider"/>).</summary>
    public void Record(long value, long timestamp)
    {
        Total.Record(value);
        SlotFor(timestamp)?.Record(value);
    }

    /// <summary>Coordinated-omission corrected record (see <see cref="LogLinearHistogram.RecordWithExpectedInterval"/>).</summary>
    public void RecordWithExpectedInterval(long value, long expectedInterval, long timestamp)
    {
        Total.RecordWithExpectedInterval(value, expectedInterval);
        SlotFor(timestamp)?.RecordWithExpectedInterval(value, expectedInterval);
    }

    /// <summary>
    /// Values recorded in the last <paramref name="window"/>: the current slot plus the ⌈window / slot⌉ slots before
    /// it, so the data covers at least <paramref name="window"/> and at most one slot more.
    /// </summary>
    public HistogramSnapshot GetSnapshot(TimeSpan window)
    {
        if (window <= TimeSpan.Zero || window > MaxWindow)
        {
            throw new ArgumentOutOfRangeException(nameof(window), window, $"The window must be greater than 0 and at most {MaxWindow}.");
        }

        long nowEpoch = EpochOf(_timeProvider.GetTimestamp());
        long oldestEpoch = nowEpoch - (long)Math.Ceiling(window / SlotDuration);
        var counts = new long[LogLinearHistogram.BucketCount];
        long sum = 0, max = 0;
        for (int i = 0; i < _slots.Length; i++)
        {
            long epoch = Volatile.Read(ref _slotEpochs[i]);
            if (epoch >= oldestEpoch && epoch <= nowEpoch)
            {
                _slots[i].AddTo(counts, ref sum, ref max);
            }
        }

        return new HistogramSnapshot(counts, sum, max);
    }

    /// <summary>Everything recorded since construction.</summary>
    public HistogramSnapshot GetTotalSnapshot() => Total.Snapshot();

    /// <summary>Time since construction, by this histogram's clock.</summary>
    public TimeSpan Elapsed => _timeProvider.GetElapsedTime(_startTimestamp);

    private long EpochOf(long timestamp) => timestamp < 0 ? 0 : timestamp / _slotTicks;

    private LogLinearHistogram? SlotFor(long timestamp)
    {
        long epoch = EpochOf(timestamp);
        int index = (int)(epoch % _slots.Length);
        ref long slotEpoch = ref _slotEpochs[index];
        var spin = new SpinWait();
        while (true)
        {
            long current = Volatile.Read(ref slotEpoch);
            if (current == epoch)
            {
                return _slots[index];
            }

            if (current == Resetting)
            {
                spin.SpinOnce(sleep1Threshold: -1);
                continue;
            }

            if (current > epoch)
            {
                return null;  // a later period already owns this slot: the sample is older than any window
            }

            if (Interlocked.CompareExchange(ref slotEpoch, Resetting, current) == current)
            {
                _slots[index].Reset();
                Volatile.Write(ref slotEpoch, epoch);
                return _slots[index];
            }
        }
    }
}
