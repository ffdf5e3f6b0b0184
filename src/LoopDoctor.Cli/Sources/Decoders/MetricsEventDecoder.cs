using System.Globalization;
using LoopDoctor.Cli.Signals;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Session;

namespace LoopDoctor.Cli.Sources.Decoders;

/// <summary>
/// <c>System.Diagnostics.Metrics</c> (the runtime's MetricsEventSource): published counter, gauge and histogram values
/// become <see cref="MetricValue"/> and <see cref="MetricHistogram"/>, read by field name as dotnet-counters reads them,
/// and, given the session's id, only the values published for this session: the source publishes every session's
/// values to every listener, another tool's (other interval, other instruments) included.
/// </summary>
/// <param name="sessionId">The SessionId this session passed to the provider (<see cref="SessionProviders.Create"/>);
/// null keeps every session's values (a recorded trace, whose session id is not known).</param>
internal sealed class MetricsEventDecoder(ISignalSink sink, string? sessionId)
{
    private static readonly Guid ProviderGuid = TraceEventProviders.GetEventSourceGuidFromName(SessionProviders.MetricsProvider);

    // Fields in MetricsEventSource's declaration order: where a field is when the event arrives without its metadata
    // (a live TraceLog, a file read without TraceEvent's templates); newer runtimes only append fields.
    private static readonly string[] RateLayout = ["sessionId", "meterName", "meterVersion", "instrumentName", "unit", "tags", "rate", "value"];
    private static readonly string[] GaugeLayout = ["sessionId", "meterName", "meterVersion", "instrumentName", "unit", "tags", "lastValue"];
    private static readonly string[] HistogramLayout = ["sessionId", "meterName", "meterVersion", "instrumentName", "unit", "tags", "quantiles", "count"];
    private const string Int32Field = "count";

    /// <summary>MetricsEventSource's value events, by their declared ids.</summary>
    private enum MetricsEvent
    {
        CounterRateValuePublished = 4,
        GaugeValuePublished = 5,
        HistogramValuePublished = 6,
        UpDownCounterRateValuePublished = 16,
    }

    public static bool Owns(TraceEvent e) => e.ProviderGuid == ProviderGuid || e.ProviderName == SessionProviders.MetricsProvider;

    public void Decode(TraceEvent e)
    {
        try
        {
            var kind = (MetricsEvent)(int)e.ID;
            var layout = kind switch
            {
                MetricsEvent.CounterRateValuePublished or MetricsEvent.UpDownCounterRateValuePublished => RateLayout,
                MetricsEvent.GaugeValuePublished => GaugeLayout,
                MetricsEvent.HistogramValuePublished => HistogramLayout,
                _ => null,
            };
            if (layout is null)
            {
                return;
            }

            var fields = ReadFields(e, layout);
            if (sessionId is not null && !string.Equals(Text(fields, "sessionId"), sessionId, StringComparison.Ordinal))
            {
                return;
            }

            var time = e.TimeStampRelativeMSec;
            var meter = Text(fields, "meterName");
            var instrument = Text(fields, "instrumentName");
            switch (kind)
            {
                case MetricsEvent.CounterRateValuePublished or MetricsEvent.UpDownCounterRateValuePublished:
                    // "value" is the instrument's current (cumulative) value; "rate" is its change over the interval.
                    if (TryDouble(Text(fields, "value"), out var value))
                    {
                        sink.Add(new MetricValue(time, meter, instrument, value));
                    }

                    break;
                case MetricsEvent.GaugeValuePublished:
                    if (TryDouble(Text(fields, "lastValue"), out var last))
                    {
                        sink.Add(new MetricValue(time, meter, instrument, last));
                    }

                    break;
                case MetricsEvent.HistogramValuePublished:
                    sink.Add(new MetricHistogram(time, meter, instrument, Quantiles(Text(fields, "quantiles")), Convert.ToInt64(fields.GetValueOrDefault("count") ?? 0, CultureInfo.InvariantCulture)));
                    break;
            }
        }
        catch (Exception ex) when (ex is InvalidCastException or FormatException or OverflowException or IndexOutOfRangeException or ArgumentOutOfRangeException or NullReferenceException)
        {
            // A payload of another version than expected: skip the event, never the session.
        }
    }

    /// <summary>The event's fields by name: from its metadata when it carries it, otherwise by their place in <paramref name="layout"/>.</summary>
    private static Dictionary<string, object?> ReadFields(TraceEvent e, string[] layout)
    {
        var fields = new Dictionary<string, object?>(layout.Length, StringComparer.Ordinal);
        if (e.PayloadNames is { Length: > 0 } names)
        {
            for (var i = 0; i < names.Length; i++)
            {
                fields[names[i]] = e.PayloadValue(i);
            }

            return fields;
        }

        var payload = new PayloadReader(e.EventData());
        foreach (var name in layout)
        {
            fields[name] = name == Int32Field ? payload.ReadInt32() : payload.ReadString();
        }

        return fields;
    }

    private static string Text(Dictionary<string, object?> fields, string name) => fields.GetValueOrDefault(name) as string ?? "";

    /// <summary>"0.5=1.2;0.95=3;0.99=4" → quantile → value, in the instrument's unit.</summary>
    private static Dictionary<double, double> Quantiles(string text)
    {
        var quantiles = new Dictionary<double, double>();
        foreach (var pair in text.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = pair.Split('=');
            if (parts.Length == 2 && TryDouble(parts[0], out var q) && TryDouble(parts[1], out var v))
            {
                quantiles[q] = v;
            }
        }

        return quantiles;
    }

    private static bool TryDouble(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
}
