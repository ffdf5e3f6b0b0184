using LoopDoctor.Cli.Fleet;

namespace LoopDoctor.Cli.Tests.Fleet;

public class StartupGateTests
{
    [Theory]
    [InlineData(0.2, 0.5, false)] // just connected, before Main: the deadlock window
    [InlineData(0.6, 8.0, false)] // slow under load, still starting
    [InlineData(1.0, 1.5, true)] // a second of CPU: the host is built
    [InlineData(0.1, 10.0, true)] // a small app that starts with little work
    public void A_process_is_started_after_a_second_of_CPU_or_ten_seconds(double cpuSeconds, double ageSeconds, bool started)
        => Assert.Equal(started, StartupGate.IsStarted(TimeSpan.FromSeconds(cpuSeconds), TimeSpan.FromSeconds(ageSeconds)));

    [Theory]
    [InlineData(0.3, 2.5, 0.01, true)] // started with little work, idle now
    [InlineData(0.3, 2.5, 0.20, false)] // still busy starting (under load it gets a fifth of a core)
    [InlineData(0.3, 1.0, 0.00, false)] // too young to tell idle from not yet scheduled
    public void An_idle_process_is_started_after_two_seconds(double cpuSeconds, double ageSeconds, double recentShare, bool started)
        => Assert.Equal(started, StartupGate.IsStarted(TimeSpan.FromSeconds(cpuSeconds), TimeSpan.FromSeconds(ageSeconds), recentShare));

    [Fact]
    public async Task A_process_running_a_while_is_attached_at_once_without_a_word()
    {
        // pid 1 started before this machine ran the build.
        using (var init = System.Diagnostics.Process.GetProcessById(1))
        {
            Assert.True(DateTime.Now - init.StartTime >= StartupGate.MaxAge, $"pid 1 started at {init.StartTime:O}");
        }

        var waited = false;
        await StartupGate.WaitAsync(1, TimeProvider.System, () => waited = true, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(waited);
    }

    [Fact]
    public async Task A_process_just_started_is_waited_for_once_and_released_when_it_exits()
    {
        using var young = System.Diagnostics.Process.Start("sleep", "1")!;
        var waits = 0;
        await StartupGate.WaitAsync(young.Id, TimeProvider.System, () => waits++, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1, waits);
        Assert.True(young.HasExited);
    }
}
