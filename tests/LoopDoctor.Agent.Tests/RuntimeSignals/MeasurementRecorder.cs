using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace LoopDoctor.Agent.Tests.RuntimeSignals;

/// <summary>One recorded measurement of a LoopDoctor instrument, with its tags flattened.</summary>
internal sealed record Measurement(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags)
{
    public string? Tag(string key) => Tags.TryGetValue(key, out var value) ? value?.ToString() : null;
}

/// <summary>
/// A real <see cref="MeterListener"/> on one <see cref="Meter"/> instance (not by name, so parallel tests with their own
/// instruments never see each other's measurements). <see cref="WaitFor"/> waits on a signal pulsed per measurement.
/// </summary>
internal sealed class MeasurementRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<Measurement> _measurements = new();
    private readonly AutoResetEvent _recorded = new(false);

    public MeasurementRecorder(Meter meter)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, meter))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.Start();
    }

    public IReadOnlyList<Measurement> All => [.. _measurements];

    public IReadOnlyList<Measurement> Of(string instrument) => [.. _measurements.Where(m => m.Instrument == instrument)];

    /// <summary>Waits until <paramref name="condition"/> holds over the measurements so far; false after <paramref name="timeout"/>.</summary>
    public bool TryWaitFor(Func<IReadOnlyList<Measurement>, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (condition(All))
            {
                return true;
            }

            var remaining = deadline - DateTime.UtcNow;
            if (remaining <= TimeSpan.Zero)
            {
                return false;
            }

            _recorded.WaitOne(remaining);
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds over the measurements so far, or fails after <paramref name="timeout"/>.</summary>
    public IReadOnlyList<Measurement> WaitFor(Func<IReadOnlyList<Measurement>, bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var snapshot = All;
            if (condition(snapshot))
            {
                return snapshot;
            }

            var remaining = deadline - DateTime.UtcNow;
            if (remaining <= TimeSpan.Zero)
            {
                Assert.Fail($"Timed out after {timeout} waiting for {what}. Seen: " +
                    string.Join(", ", snapshot.GroupBy(m => $"{m.Instrument}{{{string.Join(",", m.Tags.Select(t => $"{t.Key}={t.Value}"))}}}")
                        .Select(g => $"{g.Key}×{g.Count()}")));
            }

            _recorded.WaitOne(remaining);
        }
    }

    private void Add<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags) where T : struct
    {
        var copy = new Dictionary<string, object?>();
        foreach (var tag in tags)
        {
            copy[tag.Key] = tag.Value;
        }

        _measurements.Enqueue(new Measurement(instrument.Name, Convert.ToDouble(value), copy));
        _recorded.Set();
    }

    public void Dispose()
    {
        _listener.Dispose();
        _recorded.Dispose();
    }
}

/// <summary>A clock that only moves when told to, for asserting timestamps the code under test takes.</summary>
internal sealed class ManualTimeProvider(DateTimeOffset now) : TimeProvider
{
    private DateTimeOffset _now = now;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
