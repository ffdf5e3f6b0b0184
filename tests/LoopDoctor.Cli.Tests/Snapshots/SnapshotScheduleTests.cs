using LoopDoctor.Cli.Snapshots;

namespace LoopDoctor.Cli.Tests.Snapshots;

/// <summary>When monitor takes a snapshot: once per episode of stuck threads, never sooner than the cooldown after the last.</summary>
public class SnapshotScheduleTests
{
    private static readonly TimeSpan Cooldown = TimeSpan.FromMinutes(10);

    private static TimeSpan At(double minutes) => TimeSpan.FromMinutes(minutes);

    [Fact]
    public void One_snapshot_per_episode_of_stuck_threads()
    {
        var schedule = new SnapshotSchedule(Cooldown);
        Assert.False(schedule.Due(false, At(0)));
        Assert.True(schedule.Due(true, At(1)));
        schedule.Attempted(At(1));

        // Still stuck an hour later: the same episode, the snapshot already said what it could.
        Assert.False(schedule.Due(true, At(2)));
        Assert.False(schedule.Due(true, At(61)));
    }

    [Fact]
    public void A_new_episode_waits_for_the_cooldown_then_gets_its_own()
    {
        var schedule = new SnapshotSchedule(Cooldown);
        Assert.True(schedule.Due(true, At(1)));
        schedule.Attempted(At(1));
        Assert.False(schedule.Due(false, At(2))); // the threads moved again: the episode ended

        Assert.False(schedule.Due(true, At(5)));  // stuck again within the cooldown
        Assert.False(schedule.Due(true, At(10.9)));
        Assert.True(schedule.Due(true, At(11)));
        schedule.Attempted(At(11));
        Assert.False(schedule.Due(true, At(30)));
    }
}
