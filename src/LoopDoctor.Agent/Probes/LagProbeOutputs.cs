using System.Diagnostics.Metrics;

namespace LoopDoctor.Agent.Probes;

/// <summary>
/// Where a probe's measurements go besides its own windowed histogram: an OpenTelemetry histogram in seconds
/// (optionally with one cached tag, e.g. <c>scheduler=ui</c>), and a spike callback for measured delays at or above a threshold.
/// Callbacks are wrapped: an exception is counted in <see cref="LagProbe.CallbackErrors"/>, never rethrown.
/// </summary>
internal sealed class LagProbeOutputs
{
    public static LagProbeOutputs None { get; } = new();

    /// <summary>Receives every sample in seconds, coordinated-omission corrections included (at most <see cref="MaxCorrectionsPerSample"/> per sample).</summary>
    public Histogram<double>? Instrument { get; init; }

    /// <summary>One tag attached to every <see cref="Instrument"/> measurement (cached: no allocation per record).</summary>
    public KeyValuePair<string, object?>? Tag { get; init; }

    /// <summary>Measured delays at or above this fire <see cref="OnSpike"/>. Default: never.</summary>
    public TimeSpan SpikeThreshold { get; init; } = TimeSpan.MaxValue;

    /// <summary>
    /// Called on the sampler thread with (delay µs, threshold µs) once per measured sample that reached
    /// <see cref="SpikeThreshold"/> (not for the synthetic corrections), e.g. <c>LoopDoctorEventSource.Log.QueueDelaySpike</c>.
    /// </summary>
    public Action<long, long>? OnSpike { get; init; }

    /// <summary>Cap on synthetic corrections sent to <see cref="Instrument"/> for one sample (a 1 h stall at 10 ms would be 360,000 calls).</summary>
    public const int MaxCorrectionsPerSample = 100_000;
}
