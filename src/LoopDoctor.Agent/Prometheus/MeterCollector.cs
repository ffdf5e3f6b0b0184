using System.Collections;
using System.Diagnostics.Metrics;
using LoopDoctor.Agent.Metrics;

namespace LoopDoctor.Agent.Prometheus;

/// <summary>
/// Aggregates the named meters' instruments with a <see cref="MeterListener"/> (in the runtime since .NET 6, so the
/// agent's standalone endpoint needs no OpenTelemetry SDK and loads in a .NET 8 or 9 process). Instruments are kept
/// in the order they were published; one whose meter is disposed is forgotten.
/// </summary>
internal sealed class MeterCollector : IDisposable
{
    private readonly HashSet<string> _meterNames;
    private readonly Action<string>? _log;
    private readonly Lock _sync = new();
    private readonly List<InstrumentAggregate> _aggregates = [];
    private readonly HashSet<string> _reported = new(StringComparer.Ordinal);
    private readonly MeterListener _listener;

    public MeterCollector(IEnumerable<string> meterNames, Action<string>? log)
    {
        _meterNames = new HashSet<string>(meterNames, StringComparer.Ordinal);
        _log = log;
        _listener = new MeterListener
        {
            InstrumentPublished = OnInstrumentPublished,
            MeasurementsCompleted = OnMeasurementsCompleted,
        };
        _listener.SetMeasurementEventCallback<long>(static (_, v, tags, state) => Record(state, v, tags));
        _listener.SetMeasurementEventCallback<int>(static (_, v, tags, state) => Record(state, v, tags));
        _listener.SetMeasurementEventCallback<short>(static (_, v, tags, state) => Record(state, v, tags));
        _listener.SetMeasurementEventCallback<byte>(static (_, v, tags, state) => Record(state, v, tags));
        _listener.SetMeasurementEventCallback<double>(static (_, v, tags, state) => Record(state, v, tags));
        _listener.SetMeasurementEventCallback<float>(static (_, v, tags, state) => Record(state, v, tags));
        _listener.SetMeasurementEventCallback<decimal>(static (_, v, tags, state) => Record(state, (double)v, tags));
        _listener.Start();
    }

    /// <summary>
    /// Runs every observable callback once, then returns the instruments (their points read with
    /// <see cref="InstrumentAggregate.CopyPoints"/>). A throwing callback is logged once and its instrument reports nothing.
    /// </summary>
    public List<InstrumentAggregate> Collect()
    {
        List<InstrumentAggregate> aggregates;
        lock (_sync)
        {
            aggregates = [.. _aggregates];
        }

        foreach (var aggregate in aggregates)
        {
            aggregate.ClearObservations();
        }

        try
        {
            _listener.RecordObservableInstruments();
        }
        catch (AggregateException errors)
        {
            foreach (var error in errors.InnerExceptions)
            {
                LogOnce($"Prometheus: an observable instrument's callback threw {error.GetType().Name}: {error.Message}");
            }
        }

        foreach (var aggregate in aggregates)
        {
            if (aggregate.DroppedTagSets)
            {
                LogOnce($"Prometheus: metric '{aggregate.Instrument.Name}' of meter '{aggregate.Instrument.Meter.Name}' has more than " +
                    $"{InstrumentAggregate.MaxPoints} tag sets; further ones are not exported.");
            }
        }

        return aggregates;
    }

    public void Dispose() => _listener.Dispose();

    // Runs on the thread that recorded: a tag value whose Equals throws must not reach the host's code.
    private static void Record(object? state, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        try
        {
            ((InstrumentAggregate)state!).Record(value, tags);
        }
        catch (Exception)
        {
            // The measurement is lost; the host's call goes on.
        }
    }

    private static void Record(object? state, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        try
        {
            ((InstrumentAggregate)state!).Record(value, tags);
        }
        catch (Exception)
        {
            // The measurement is lost; the host's call goes on.
        }
    }

    private void OnInstrumentPublished(Instrument instrument, MeterListener listener)
    {
        if (!_meterNames.Contains(instrument.Meter.Name))
        {
            return;
        }

        if (InstrumentAggregate.Create(instrument, HistogramBoundaries) is not { } aggregate)
        {
            LogOnce($"Prometheus: metric '{instrument.Name}' of meter '{instrument.Meter.Name}' is a {instrument.GetType().Name}, which has no Prometheus type; it is not exported.");
            return;
        }

        lock (_sync)
        {
            _aggregates.Add(aggregate);
        }

        listener.EnableMeasurementEvents(instrument, aggregate);
    }

    private void OnMeasurementsCompleted(Instrument instrument, object? state)
    {
        lock (_sync)
        {
            _aggregates.Remove((InstrumentAggregate)state!);
        }
    }

    /// <summary>
    /// The agent's own delay buckets for its meter; otherwise the instrument's advice (<c>InstrumentAdvice</c>, .NET 9+,
    /// read by reflection because this build targets .NET 8), otherwise the OpenTelemetry SDK's defaults.
    /// </summary>
    private static double[] HistogramBoundaries(Instrument instrument)
    {
        if (instrument.Meter.Name == LoopDoctorInstruments.MeterName)
        {
            return LoopDoctorInstruments.DelayBucketsSeconds;
        }

        try
        {
            var advice = instrument.GetType().GetProperty("Advice")?.GetValue(instrument);
            if (advice?.GetType().GetProperty("HistogramBucketBoundaries")?.GetValue(advice) is IEnumerable bounds)
            {
                var boundaries = new List<double>();
                foreach (var bound in bounds)
                {
                    boundaries.Add(Convert.ToDouble(bound, System.Globalization.CultureInfo.InvariantCulture));
                }

                return [.. boundaries];
            }
        }
        catch (Exception)
        {
            // An advice this code cannot read is not worth failing the instrument for: the defaults apply.
        }

        return InstrumentAggregate.DefaultBoundaries;
    }

    private void LogOnce(string message)
    {
        lock (_sync)
        {
            // Bounded: a callback that throws a different message each time must not grow this set for ever.
            if (_reported.Count >= 256 || !_reported.Add(message))
            {
                return;
            }
        }

        _log?.Invoke(message);
    }
}
