using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Diagnostics.Tracing;
using LoopDoctor.Agent.Diagnostics;
using LoopDoctor.Agent.Metrics;
using LoopDoctor.Agent.Probes;

namespace LoopDoctor.Agent.Tests.Probes;

public sealed class AgentProbesTests
{
    [Fact]
    public void Options_choose_the_probes_and_scheduler_probes_get_a_tagged_current_delay_gauge()
    {
        using var instruments = new LoopDoctorInstruments();
        var gauges = new ConcurrentDictionary<string, double>();
        using var listener = ListenToGauges(instruments, gauges);
        var options = new LoopDoctorOptions { EnableTimerLagProbe = false, ProbeInterval = TimeSpan.FromMilliseconds(5) };

        var probes = AgentProbes.Start(options, instruments);
        var context = new ManualSynchronizationContext();   // never runs what is posted unless told: a stuck UI thread
        try
        {
            Assert.NotNull(probes.QueueDelay);
            Assert.Null(probes.TimerLag);
            Assert.Equal(ProbeSampler.ThreadName, probes.Sampler.Thread!.Name);
            var ui = probes.ProbeSynchronizationContext(context, "ui");
            Assert.Equal(TimeSpan.FromMilliseconds(5), ui.Interval);
            Assert.True(Poll.Until(() => ui.CurrentDelay >= TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(10)), "ui probe never posted");

            listener.RecordObservableInstruments();
            Assert.True(gauges["loopdoctor.scheduler.delay.current{scheduler=ui}"] >= 0.05);
            Assert.True(gauges.ContainsKey("loopdoctor.thread_pool.queue.delay.current"));
            Assert.False(gauges.ContainsKey("loopdoctor.timer.lag.current"));

            context.RunAll();
            Assert.True(Poll.Until(() => ui.GetCumulativeSnapshot().Max >= TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(10)));
            Assert.Throws<ArgumentException>(() => probes.ProbeScheduler(TaskScheduler.Default, "ui"));
        }
        finally
        {
            probes.Dispose();
        }

        Assert.True(probes.Sampler.Thread!.Join(TimeSpan.FromSeconds(5)), "sampler thread did not stop");
    }

    internal static MeterListener ListenToGauges(LoopDoctorInstruments instruments, ConcurrentDictionary<string, double> into)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter, instruments.Meter) && instrument.Name.Contains("current", StringComparison.Ordinal))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            string key = instrument.Name;
            foreach (var tag in tags)
            {
                key += $"{{{tag.Key}={tag.Value}}}";
            }

            into[key] = value;
        });
        listener.Start();
        return listener;
    }
}

/// <summary>The wired agent probes end to end through a real pool stall: gauges during it, spike events after it.</summary>
[Collection(AgentCollection.Name)]  // stalls the real pool and changes its limits: runs alone
public sealed class AgentProbesStallTests
{
    [Fact]
    public Task A_pool_stall_raises_the_gauges_while_it_lasts_and_writes_spike_events_after() => Dedicated.RunAsync(() =>
    {
        using var spikes = new SpikeListener();
        using var instruments = new LoopDoctorInstruments();
        var gauges = new ConcurrentDictionary<string, double>();
        using var listener = AgentProbesTests.ListenToGauges(instruments, gauges);
        var options = new LoopDoctorOptions { LagThreshold = TimeSpan.FromMilliseconds(100), TimerLagInterval = TimeSpan.FromMilliseconds(20) };
        using var probes = AgentProbes.Start(options, instruments);
        Assert.True(Poll.Until(() => probes.QueueDelay!.GetCumulativeSnapshot().Count > 3 && probes.TimerLag!.GetCumulativeSnapshot().Count > 3,
            TimeSpan.FromSeconds(10)), "probes took no samples");

        double queueGauge = 0, timerGauge = 0;
        using (var stall = ThreadPoolStall.Begin())
        {
            while (stall.Elapsed < TimeSpan.FromMilliseconds(300))
            {
                listener.RecordObservableInstruments();  // a scrape during the stall
                queueGauge = Math.Max(queueGauge, gauges.GetValueOrDefault("loopdoctor.thread_pool.queue.delay.current"));
                timerGauge = Math.Max(timerGauge, gauges.GetValueOrDefault("loopdoctor.timer.lag.current"));
                Thread.Sleep(10);
            }
        }

        Assert.True(queueGauge >= 0.2, $"queue-delay gauge peaked at {queueGauge} s");
        Assert.True(timerGauge >= 0.15, $"timer-lag gauge peaked at {timerGauge} s");
        Assert.True(Poll.Until(() => spikes.Events.Any(e => e.Name == "QueueDelaySpike") && spikes.Events.Any(e => e.Name == "TimerLagSpike"),
            TimeSpan.FromSeconds(10)),
            $"spike events: {string.Join(", ", spikes.Events)}; source enabled {LoopDoctorEventSource.Log.IsEnabled()}, " +
            $"construction error {LoopDoctorEventSource.Log.ConstructionException?.Message}, queue max {probes.QueueDelay!.GetCumulativeSnapshot().Max}, errors {probes.QueueDelay!.CallbackErrors}");
        var queueSpike = spikes.Events.Where(e => e.Name == "QueueDelaySpike").MaxBy(e => e.Delay);
        Assert.True(queueSpike.Delay >= 250_000, $"QueueDelaySpike {queueSpike.Delay} µs");
        Assert.Equal(100_000, queueSpike.Threshold);
        Assert.True(spikes.Events.Where(e => e.Name == "TimerLagSpike").Max(e => e.Delay) >= 200_000);
    });

    private sealed class SpikeListener : EventListener
    {
        public ConcurrentQueue<(string Name, long Delay, long Threshold)> Events { get; } = new();

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == LoopDoctorEventSource.SourceName)
            {
                EnableEvents(eventSource, EventLevel.Warning, LoopDoctorEventSource.Keywords.Lag);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (e.EventName is "QueueDelaySpike" or "TimerLagSpike" && e.Payload is { Count: 2 } payload)
            {
                Events.Enqueue((e.EventName, Convert.ToInt64(payload[0]), Convert.ToInt64(payload[1])));
            }
        }
    }
}
