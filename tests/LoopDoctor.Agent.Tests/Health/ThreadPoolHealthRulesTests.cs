namespace LoopDoctor.Agent.Tests.Health;

public sealed class ThreadPoolHealthRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);
    private static readonly LoopDoctorOptions Options = new()
    {
        LagThreshold = TimeSpan.FromMilliseconds(100),
        UnhealthyLagThreshold = TimeSpan.FromSeconds(1),
        HealthWindow = TimeSpan.FromSeconds(10),
    };

    private static ThreadPoolHealth Assess(double p99Ms, double currentMs = 0, DateTimeOffset? starvation = null)
        => ThreadPoolHealthRules.Assess(TimeSpan.FromMilliseconds(p99Ms), TimeSpan.FromMilliseconds(currentMs), 1000, starvation, Now, Options);

    [Fact]
    public void Low_delay_is_healthy() => Assert.Equal(ThreadPoolHealthStatus.Healthy, Assess(0.05).Status);

    [Fact]
    public void P99_over_threshold_is_degraded()
    {
        var health = Assess(250);
        Assert.Equal(ThreadPoolHealthStatus.Degraded, health.Status);
        Assert.Contains("250 ms", health.Description);
    }

    [Fact]
    public void P99_over_unhealthy_threshold_is_unhealthy() => Assert.Equal(ThreadPoolHealthStatus.Unhealthy, Assess(1500).Status);

    [Fact]
    public void An_outstanding_probe_counts_even_before_it_completes()
        => Assert.Equal(ThreadPoolHealthStatus.Unhealthy, Assess(p99Ms: 0.1, currentMs: 2000).Status);

    [Fact]
    public void Recent_starvation_with_lag_is_unhealthy()
        => Assert.Equal(ThreadPoolHealthStatus.Unhealthy, Assess(200, starvation: Now.AddSeconds(-3)).Status);

    [Fact]
    public void Old_starvation_does_not_count()
        => Assert.Equal(ThreadPoolHealthStatus.Degraded, Assess(200, starvation: Now.AddSeconds(-30)).Status);

    [Fact]
    public void Starvation_without_lag_is_not_alarming()
        => Assert.Equal(ThreadPoolHealthStatus.Healthy, Assess(1, starvation: Now.AddSeconds(-1)).Status);

    [Theory]
    [InlineData(50, 0.0)]
    [InlineData(100, 0.0)]
    [InlineData(150, 0.5)]
    [InlineData(200, 1.0)]
    [InlineData(5000, 1.0)]
    public void Shed_probability_rises_from_one_to_two_times_the_threshold(double lagMs, double expected)
        => Assert.Equal(expected, ThreadPoolHealthRules.ShedProbability(TimeSpan.FromMilliseconds(lagMs), TimeSpan.FromMilliseconds(100)), 3);
}
