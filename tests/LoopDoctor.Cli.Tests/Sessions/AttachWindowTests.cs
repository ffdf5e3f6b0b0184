using LoopDoctor.Cli.Signals;
using LoopDoctor.Cli.Sources;

namespace LoopDoctor.Cli.Tests.Sessions;

public class AttachWindowTests
{
    // The session started at 10 000 ms of the monotonic clock; signal timestamps count from there.
    private static AttachWindow Window() => new(SessionClock.StartingAt(10_000));

    [Fact]
    public void Until_the_attach_settles_every_spike_is_loopdoctors_own_and_other_signals_pass()
    {
        var window = Window();

        Assert.False(window.Admits(new QueueDelaySpike(900, 210, 100)));
        Assert.False(window.Admits(new TimerLagSpike(950, 230, 100)));
        Assert.True(window.Admits(new PoolAdjustment(900, 1, 5, AdjustmentReason.Starvation)));
        Assert.Equal((2, 230), window.LeftOut);
    }

    [Fact]
    public void After_it_settles_a_probe_is_the_apps_when_it_started_waiting_after_the_attach_ended()
    {
        var window = Window();
        window.Settle(11_000);

        // Waited from 950 to 1 160 ms of the session: started inside the attach.
        Assert.False(window.Admits(new QueueDelaySpike(1_160, 210, 100)));
        // Waited from 1 000 ms on: the app's.
        Assert.True(window.Admits(new QueueDelaySpike(1_210, 210, 100)));
        Assert.True(window.Admits(new TimerLagSpike(3_000, 500, 100)));
        Assert.Equal((1, 210), window.LeftOut);
    }
}
