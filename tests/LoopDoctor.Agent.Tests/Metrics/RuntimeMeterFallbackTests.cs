using System.Diagnostics.Metrics;
using LoopDoctor.Agent.Metrics;
using LoopDoctor.Agent.Prometheus;

namespace LoopDoctor.Agent.Tests.Metrics;

/// <summary>
/// The agent's stand-in for the System.Runtime meter on .NET 8 must expose the very series .NET 9+ does: each of its
/// instruments is compared with the runtime's own (this test process runs .NET 10) by Prometheus name and type.
/// </summary>
public sealed class RuntimeMeterFallbackTests
{
    [Fact]
    public void Each_stand_in_instrument_is_exposed_as_the_runtime_meter_of_NET_9_and_later_exposes_it()
    {
        using var fallback = RuntimeMeterFallback.StartIfNeeded(new Version(8, 0, 31));
        Assert.NotNull(fallback);
        var builtIn = new Dictionary<string, Instrument>(StringComparer.Ordinal);
        var standIn = new Dictionary<string, Instrument>(StringComparer.Ordinal);
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == "System.Runtime")
                {
                    (ReferenceEquals(instrument.Meter, fallback.Meter) ? standIn : builtIn)[instrument.Name] = instrument;
                }
            },
        };
        listener.Start();

        Assert.Equal(10, standIn.Count);
        foreach (var (name, mine) in standIn)
        {
            Assert.True(builtIn.TryGetValue(name, out var theirs), $"{name} is not an instrument of .NET {Environment.Version}'s System.Runtime meter");
            Assert.Equal(theirs.Unit, mine.Unit);
            Assert.Equal(Exposed(theirs), Exposed(mine));
        }
    }

    [Fact]
    public void Nothing_stands_in_where_the_runtime_has_the_meter() =>
        Assert.Null(RuntimeMeterFallback.StartIfNeeded(new Version(9, 0, 0)));

    private static (string Name, PrometheusMetricType Type) Exposed(Instrument instrument)
    {
        var family = PrometheusMetricStream.Create(InstrumentAggregate.Create(instrument, _ => [])!, []).Family;
        return (family.ExposedName, family.Type);
    }
}
