using System.Globalization;

namespace LoopDoctor.Agent;

/// <summary>How the thread pool is doing, in the terms a health check or a load balancer needs.</summary>
public enum ThreadPoolHealthStatus
{
    /// <summary>Queue delay below <see cref="LoopDoctorOptions.LagThreshold"/>.</summary>
    Healthy = 0,
    /// <summary>Windowed p99 queue delay above <see cref="LoopDoctorOptions.LagThreshold"/>.</summary>
    Degraded = 1,
    /// <summary>Windowed p99 or current queue delay above <see cref="LoopDoctorOptions.UnhealthyLagThreshold"/>, or the runtime injected threads for starvation within the window.</summary>
    Unhealthy = 2,
}

/// <summary>A point-in-time verdict on the thread pool, with the numbers behind it.</summary>
public sealed record ThreadPoolHealth(
    ThreadPoolHealthStatus Status,
    string Description,
    TimeSpan QueueDelayP99,
    TimeSpan CurrentQueueDelay,
    long SamplesInWindow,
    TimeSpan Window,
    DateTimeOffset? LastStarvationInjection);

/// <summary>Pure rules turning lag measurements into a <see cref="ThreadPoolHealth"/>; testable without a thread pool.</summary>
internal static class ThreadPoolHealthRules
{
    public static ThreadPoolHealth Assess(
        TimeSpan windowP99,
        TimeSpan currentDelay,
        long samplesInWindow,
        DateTimeOffset? lastStarvationInjection,
        DateTimeOffset now,
        LoopDoctorOptions options)
    {
        var window = options.HealthWindow;
        // An outstanding probe that has waited longer than the p99 is the freshest evidence: during a stall no probe
        // completes, so the windowed histogram alone would report the past.
        var lag = currentDelay > windowP99 ? currentDelay : windowP99;
        var starvedRecently = lastStarvationInjection is { } at && now - at <= window;

        ThreadPoolHealthStatus status;
        string description;
        if (lag > options.UnhealthyLagThreshold)
        {
            status = ThreadPoolHealthStatus.Unhealthy;
            description = $"Thread-pool queue delay {Format(lag)} exceeds {Format(options.UnhealthyLagThreshold)}: work items wait that long before they start.";
        }
        else if (starvedRecently && lag > options.LagThreshold)
        {
            status = ThreadPoolHealthStatus.Unhealthy;
            description = $"The runtime injected threads for starvation in the last {Format(window)} and queue delay is {Format(lag)}.";
        }
        else if (lag > options.LagThreshold)
        {
            status = ThreadPoolHealthStatus.Degraded;
            description = $"Thread-pool queue delay p99 {Format(lag)} over the last {Format(window)} exceeds {Format(options.LagThreshold)}.";
        }
        else
        {
            status = ThreadPoolHealthStatus.Healthy;
            description = $"Thread-pool queue delay p99 {Format(lag)} over the last {Format(window)}.";
        }

        return new ThreadPoolHealth(status, description, windowP99, currentDelay, samplesInWindow, window, lastStarvationInjection);
    }

    /// <summary>
    /// Probability of shedding a request: 0 at 1× the lag threshold rising linearly to 1 at 2×
    /// (the shape toobusy-js and under-pressure use for Node's event loop).
    /// </summary>
    public static double ShedProbability(TimeSpan lag, TimeSpan threshold)
    {
        if (threshold <= TimeSpan.Zero)
        {
            return 0;
        }

        var ratio = lag.TotalMilliseconds / threshold.TotalMilliseconds;
        return Math.Clamp(ratio - 1.0, 0.0, 1.0);
    }

    internal static string Format(TimeSpan value) => value.TotalMilliseconds switch
    {
        < 1 => string.Create(CultureInfo.InvariantCulture, $"{value.TotalMilliseconds * 1000:0} µs"),
        < 1000 => string.Create(CultureInfo.InvariantCulture, $"{value.TotalMilliseconds:0.#} ms"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{value.TotalSeconds:0.##} s"),
    };
}
