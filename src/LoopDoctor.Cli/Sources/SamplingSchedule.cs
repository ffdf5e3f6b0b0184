namespace LoopDoctor.Cli.Sources;

/// <summary>What <see cref="SamplingSchedule"/> tells the on-lag sampler to do now.</summary>
internal enum SamplingDecision
{
    None,
    Start,
    Stop,
}

/// <summary>
/// When <see cref="OnDemandSampler"/> samples: from a sign of lag, for <see cref="BurstLength"/>; then not again for
/// <see cref="BurstPause"/>, after which the next sign of lag starts another burst. Why bursts: a starving pool is
/// hundreds of threads, and the profiler walks every one of them every millisecond — the heaviest thing loopdoctor does
/// to a target that is already struggling, and the event flood behind the CLI's memory peak (docs/benchmarks.md P7: 600
/// threads, minutes into the incident). A quarter of the time still samples every minute of a long incident, and a
/// blocked callback repeats: its call site shows within seconds. The price: a long callback's duration is measured only
/// within a burst, and a new incident within the pause waits for it. A short first look at attach
/// (<see cref="FirstLook"/>) sees the threads that were already parked. Pure logic over a <see cref="TimeProvider"/>; not
/// thread-safe (the sampler calls it under its lock).
/// </summary>
internal sealed class SamplingSchedule(TimeProvider time)
{
    /// <summary>How long one burst of sampling lasts.</summary>
    public static readonly TimeSpan BurstLength = TimeSpan.FromSeconds(15);

    /// <summary>The pause after a burst before lag can start another.</summary>
    public static readonly TimeSpan BurstPause = TimeSpan.FromSeconds(45);

    /// <summary>
    /// The first look at attach: long enough for a few samples of every thread (about one per thread per millisecond), so
    /// threads parked in a wait since before the session are seen; short enough to cost a healthy target next to nothing.
    /// </summary>
    public static readonly TimeSpan FirstLookLength = TimeSpan.FromSeconds(2);

    private TimeSpan _burst = BurstLength;
    private bool _firstLook;
    private long _startedAt;
    private long _stoppedAt;
    private bool _paused;
    private bool _running;

    /// <summary>
    /// One observation: <paramref name="lag"/> says whether it was a sign of lag; <paramref name="canAct"/> false while the
    /// sampler is still starting or stopping. Returns what to do; the caller does it (the schedule counts it as done).
    /// </summary>
    public SamplingDecision Observe(bool lag, bool canAct = true)
    {
        if (!canAct)
        {
            return SamplingDecision.None;
        }

        var now = time.GetTimestamp();
        if (_running)
        {
            if (time.GetElapsedTime(_startedAt, now) < _burst)
            {
                return SamplingDecision.None;
            }

            _running = false;
            _paused = !_firstLook; // the first look does not hold back an incident's burst
            _firstLook = false;
            _stoppedAt = now;
            return SamplingDecision.Stop;
        }

        if (!lag || (_paused && time.GetElapsedTime(_stoppedAt, now) < BurstPause))
        {
            return SamplingDecision.None;
        }

        _paused = false;
        _running = true;
        _startedAt = now;
        _burst = BurstLength;
        return SamplingDecision.Start;
    }

    /// <summary>The first look at attach (<see cref="FirstLookLength"/>): Start, unless a burst already runs.</summary>
    public SamplingDecision FirstLook()
    {
        if (_running)
        {
            return SamplingDecision.None;
        }

        _running = true;
        _firstLook = true;
        _startedAt = time.GetTimestamp();
        _burst = FirstLookLength;
        return SamplingDecision.Start;
    }

    /// <summary>The sampler could not start: the next sign of lag may try again.</summary>
    public void NotRunning() => _running = false;
}
