using System.Diagnostics.Metrics;
using LoopDoctor.Agent.Metrics;
using LoopDoctor.Agent.Probes;
using LoopDoctor.Agent.Tests.Histograms;

namespace LoopDoctor.Agent.Tests.Probes;

/// <summary>Probe bookkeeping with a manual clock and a manual context: no real time, fully deterministic.</summary>
public sealed class LagProbeTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(10);

    [Fact]
    public void Outstanding_probe_shows_rising_current_delay_then_records_a_corrected_sample()
    {
        var clock = new ManualTimeProvider();
        var context = new ManualSynchronizationContext();
        using var sampler = new ProbeSampler(Interval, clock);
        var probe = sampler.AddSynchronizationContextProbe(context, "manual");

        sampler.TickOnce();                      // posts
        Assert.Equal(1, context.Pending);
        Assert.Equal(TimeSpan.Zero, probe.CurrentDelay);
        clock.Advance(TimeSpan.FromMilliseconds(400));
        sampler.TickOnce();                      // still outstanding: no second post
        Assert.Equal(1, context.Pending);
        Assert.Equal(TimeSpan.FromMilliseconds(400), probe.CurrentDelay);
        clock.Advance(TimeSpan.FromMilliseconds(600));
        Assert.Equal(TimeSpan.FromSeconds(1), probe.CurrentDelay);

        context.RunAll();                        // the context finally runs it, 1 s late
        Assert.Equal(TimeSpan.Zero, probe.CurrentDelay);
        sampler.TickOnce();                      // records, posts the next
        Assert.Equal(1, context.Pending);

        var total = probe.GetCumulativeSnapshot();
        Assert.Equal(100, total.Count);          // 1000, 990, ..., 10 ms
        Assert.Equal(TimeSpan.FromSeconds(1), total.Max);
        Assert.InRange(total.P50.TotalMilliseconds, 495, 515);
        Assert.InRange(total.P99.TotalMilliseconds, 980, 1000);
        var window = probe.GetSnapshot(TimeSpan.FromSeconds(10));
        Assert.Equal(100, window.Count);
        Assert.Equal(TimeSpan.FromSeconds(10), window.Window);
        Assert.Equal(TimeSpan.FromSeconds(1), total.Window);

        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(0, probe.GetSnapshot(TimeSpan.FromSeconds(10)).Count);
        Assert.Equal(100, probe.GetSnapshot(TimeSpan.FromSeconds(60)).Count);
    }

    [Fact]
    public void Spike_callback_fires_once_per_measured_sample_over_the_threshold_in_microseconds()
    {
        var clock = new ManualTimeProvider();
        var context = new ManualSynchronizationContext();
        var spikes = new List<(long Delay, long Threshold)>();
        using var sampler = new ProbeSampler(Interval, clock);
        sampler.AddSynchronizationContextProbe(context, "manual", new LagProbeOutputs
        {
            SpikeThreshold = TimeSpan.FromMilliseconds(100),
            OnSpike = (delay, threshold) => spikes.Add((delay, threshold)),
        });

        Sample(sampler, clock, context, TimeSpan.FromMilliseconds(50));
        Assert.Empty(spikes);
        Sample(sampler, clock, context, TimeSpan.FromMilliseconds(250));
        Assert.Equal([(250_000L, 100_000L)], spikes);
    }

    [Fact]
    public void Throwing_outputs_and_a_refusing_context_are_counted_never_rethrown()
    {
        var clock = new ManualTimeProvider();
        var context = new ManualSynchronizationContext();
        using var instruments = new LoopDoctorInstruments();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument, instruments.SchedulerDelay))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((_, _, _, _) => throw new InvalidOperationException("listener bug"));
        listener.Start();

        using var sampler = new ProbeSampler(Interval, clock);
        var probe = sampler.AddSynchronizationContextProbe(context, "manual", new LagProbeOutputs
        {
            Instrument = instruments.SchedulerDelay,
            SpikeThreshold = TimeSpan.Zero,
            OnSpike = (_, _) => throw new InvalidOperationException("handler bug"),
        });
        Sample(sampler, clock, context, TimeSpan.FromMilliseconds(5));
        Assert.Equal(2, probe.CallbackErrors);
        Assert.Equal(1, probe.GetCumulativeSnapshot().Count);   // the histogram still got it

        var refused = sampler.AddSynchronizationContextProbe(new ThrowingSynchronizationContext(), "refusing");
        sampler.TickOnce();
        sampler.TickOnce();
        Assert.Equal(2, refused.CallbackErrors);
        Assert.Equal(TimeSpan.Zero, refused.CurrentDelay);
        Assert.Equal(0, sampler.TickErrors);
    }

    [Fact]
    public void Instrument_gets_every_corrected_sample_in_seconds_with_the_cached_scheduler_tag()
    {
        var clock = new ManualTimeProvider();
        var context = new ManualSynchronizationContext();
        using var instruments = new LoopDoctorInstruments();
        var values = new List<double>();
        var tags = new List<string?>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument, instruments.SchedulerDelay))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((_, value, tagSpan, _) =>
        {
            values.Add(value);
            foreach (var tag in tagSpan)
            {
                tags.Add($"{tag.Key}={tag.Value}");
            }
        });
        listener.Start();

        using var sampler = new ProbeSampler(Interval, clock);
        sampler.AddSynchronizationContextProbe(context, "ui", new LagProbeOutputs
        {
            Instrument = instruments.SchedulerDelay,
            Tag = new KeyValuePair<string, object?>(AgentProbes.SchedulerTagName, "ui"),
        });
        Sample(sampler, clock, context, TimeSpan.FromMilliseconds(200));

        Assert.Equal(20, values.Count);                 // 200, 190, ..., 10 ms
        Assert.Equal(0.2, values.Max(), 9);
        Assert.Equal(0.01, values.Min(), 9);
        Assert.Equal(20, tags.Count);
        Assert.All(tags, t => Assert.Equal("scheduler=ui", t));
    }

    [Fact]
    public void A_tick_allocates_nothing_even_with_a_listener_and_spike_handler()
    {
        var clock = new ManualTimeProvider();
        using var instruments = new LoopDoctorInstruments();
        long measurements = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument, instruments.SchedulerDelay))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((_, _, _, _) => measurements++);
        listener.Start();
        long spikes = 0;
        using var sampler = new ProbeSampler(Interval, clock);
        var probe = sampler.AddSynchronizationContextProbe(new InlineSynchronizationContext(), "inline", new LagProbeOutputs
        {
            Instrument = instruments.SchedulerDelay,
            Tag = new KeyValuePair<string, object?>(AgentProbes.SchedulerTagName, "inline"),
            SpikeThreshold = TimeSpan.Zero,
            OnSpike = (_, _) => spikes++,
        });
        sampler.TickOnce();
        sampler.TickOnce();

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            sampler.TickOnce();                          // records the previous sample, posts the next
            _ = probe.CurrentDelay;
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.True(measurements >= 10_000 && spikes >= 10_000, $"{measurements} measurements, {spikes} spikes");
    }

    [Fact]
    public void Sampler_runs_on_one_named_dedicated_background_thread_and_stops_on_dispose()
    {
        var sampler = new ProbeSampler(TimeSpan.FromMilliseconds(5));
        var probe = sampler.AddSynchronizationContextProbe(new InlineSynchronizationContext(), "inline");
        sampler.Start();
        sampler.Start();
        var thread = sampler.Thread!;
        Assert.Equal(ProbeSampler.ThreadName, thread.Name);
        Assert.True(thread.IsBackground);
        Assert.False(thread.IsThreadPoolThread);
        Assert.True(Poll.Until(() => probe.GetCumulativeSnapshot().Count >= 5, TimeSpan.FromSeconds(10)), "sampler did not tick");

        sampler.Dispose();
        Assert.True(thread.Join(TimeSpan.FromSeconds(5)));
        Assert.Empty(sampler.Probes);
        Assert.Equal(TimeSpan.Zero, probe.CurrentDelay);
        Assert.Throws<ObjectDisposedException>(() => sampler.AddThreadPoolProbe());
    }

    [Fact]
    public void Probe_names_are_unique_and_disposing_a_probe_unregisters_it()
    {
        using var sampler = new ProbeSampler(Interval, new ManualTimeProvider());
        var first = sampler.AddSynchronizationContextProbe(new InlineSynchronizationContext(), "ui");
        var error = Assert.Throws<ArgumentException>(() => sampler.AddSynchronizationContextProbe(new InlineSynchronizationContext(), "ui"));
        Assert.Contains("'ui'", error.Message);
        first.Dispose();
        Assert.Empty(sampler.Probes);
        sampler.AddSynchronizationContextProbe(new InlineSynchronizationContext(), "ui");
        Assert.Single(sampler.Probes);
    }

    [Fact]
    public void Snapshot_windows_outside_0_to_60_seconds_are_rejected()
    {
        using var sampler = new ProbeSampler(Interval, new ManualTimeProvider());
        var probe = sampler.AddThreadPoolProbe();
        Assert.Throws<ArgumentOutOfRangeException>(() => probe.GetSnapshot(TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => probe.GetSnapshot(TimeSpan.FromMinutes(2)));
        Assert.Equal(new LagSnapshot(0, default, default, default, default, default, LagProbe.MaxWindow), probe.GetSnapshot(LagProbe.MaxWindow));
    }

    private static void Sample(ProbeSampler sampler, ManualTimeProvider clock, ManualSynchronizationContext context, TimeSpan delay)
    {
        sampler.TickOnce();
        clock.Advance(delay);
        context.RunAll();
        sampler.TickOnce();
    }
}
