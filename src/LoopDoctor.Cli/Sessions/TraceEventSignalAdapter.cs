using System.Globalization;
using LoopDoctor.Cli.Signals;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.EventPipe;
using Microsoft.Diagnostics.Tracing.Session;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace LoopDoctor.Cli.Sessions;

/// <summary>
/// Normalizes TraceEvent events (from a live TraceLog session or a .nettrace file alike) into
/// <see cref="Signal"/>s. Custom EventSource events can arrive without names under TraceLog, so the agent's and the
/// Metrics events are matched by provider name and event id, payloads by position.
/// </summary>
internal sealed class TraceEventSignalAdapter
{
    // System.Diagnostics.Metrics MetricsEventSource event ids.
    private const int CounterRateValuePublished = 4;
    private const int GaugeValuePublished = 5;
    private const int HistogramValuePublished = 6;
    private const int UpDownCounterRateValuePublished = 16;

    // LoopDoctor-Agent event ids (src/LoopDoctor.Agent/Diagnostics/LoopDoctorEventSource.cs).
    internal const int AgentStartedId = 1;
    private const int QueueDelaySpikeId = 2;
    private const int TimerLagSpikeId = 3;
    internal const int UnobservedTaskExceptionId = 4;

    // EventSource GUIDs derive from the name; under TraceLog these events arrive as "Provider(guid)/EventID(n)".
    private static readonly Guid MetricsGuid = TraceEventProviders.GetEventSourceGuidFromName(SessionProviders.MetricsProvider);
    private static readonly Guid AgentGuid = TraceEventProviders.GetEventSourceGuidFromName(SessionProviders.AgentProvider);

    private readonly Action<Signal> _sink;
    private readonly SampleRunCollapser? _runs;
    private readonly Func<TraceEvent, CallStack> _stackOf;
    private readonly Dictionary<CallStackIndex, CallStack> _stacks = [];
    private double _stacksClearedAtMs;
    private bool _trimUnsupported;

    /// <summary>How many times the live TraceLog's interned stacks were dropped (once a second of trace time).</summary>
    public int StackTrims { get; private set; }

    /// <summary>Live: TraceLog resolves stacks as events arrive.</summary>
    public TraceEventSignalAdapter(TraceLogEventSource source, Action<Signal> sink)
        : this(source, sink, stackOf: null, onSample: null)
    {
    }

    /// <summary>
    /// Any event source, with the stacks from <paramref name="stackOf"/> (null: TraceLog's, the source must be a
    /// <see cref="TraceLogEventSource"/>). With <paramref name="onSample"/>, sample-profiler samples go there instead of
    /// becoming <see cref="StackSample"/> objects (the offline reader keeps them compactly); without it, consecutive
    /// identical samples of a thread reach <paramref name="sink"/> as one run (<see cref="SampleRunCollapser"/>; call
    /// <see cref="FlushSamples"/> when the source is done).
    /// </summary>
    public TraceEventSignalAdapter(TraceEventDispatcher source, Action<Signal> sink, Func<TraceEvent, CallStack>? stackOf, Action<TraceEvent, SampleKind>? onSample)
    {
        if (onSample is null)
        {
            var runs = _runs = new SampleRunCollapser(sink);
            // Any other signal of a thread ends its run first: detectors see a thread's signals in order.
            _sink = signal =>
            {
                if (signal.ThreadId != 0)
                {
                    runs.End(signal.ThreadId);
                }

                sink(signal);
            };
        }
        else
        {
            _sink = sink;
        }

        _stackOf = stackOf ?? TraceLogStackOf;
        var clr = source.Clr;
        clr.WaitHandleWaitStart += e => _sink(new WaitStarted(e.TimeStampRelativeMSec, e.ThreadID,
            (int)e.WaitSource == 1 ? WaitSource.MonitorWait : WaitSource.Unknown, _stackOf(e)));
        clr.WaitHandleWaitStop += e => _sink(new WaitStopped(e.TimeStampRelativeMSec, e.ThreadID));
        clr.ContentionStart += e => _sink(new ContentionStarted(e.TimeStampRelativeMSec, e.ThreadID, _stackOf(e)));
        clr.ContentionStop += e => _sink(new ContentionStopped(e.TimeStampRelativeMSec, e.ThreadID, e.DurationNs / 1_000_000.0, _stackOf(e)));
        clr.ThreadPoolWorkerThreadAdjustmentAdjustment += e => _sink(new PoolAdjustment(e.TimeStampRelativeMSec, e.ThreadID, e.NewWorkerThreadCount, (AdjustmentReason)(int)e.Reason));
        clr.ThreadPoolWorkerThreadStart += e => _sink(new PoolThreadSeen(e.TimeStampRelativeMSec, e.ThreadID, e.ActiveWorkerThreadCount));
        clr.ThreadPoolWorkerThreadWait += e => _sink(new PoolThreadSeen(e.TimeStampRelativeMSec, e.ThreadID, e.ActiveWorkerThreadCount));
        // ThreadPoolDequeue would mark every work item, but did not fire on .NET 10 with these keywords (measured).
        clr.ThreadPoolDequeue += e => _sink(new PoolThreadSeen(e.TimeStampRelativeMSec, e.ThreadID));

        var profiler = new SampleProfilerTraceEventParser(source);
        profiler.ThreadSample += e =>
        {
            if (e.Type is ClrThreadSampleType.Managed or ClrThreadSampleType.External)
            {
                var kind = e.Type == ClrThreadSampleType.Managed ? SampleKind.Managed : SampleKind.External;
                if (onSample is not null)
                {
                    onSample(e, kind);
                }
                else
                {
                    _runs!.Add(e.TimeStampRelativeMSec, e.ThreadID, kind, _stackOf(e));
                }
            }
        };

        source.AllEvents += OnAnyEvent;
    }


    /// <summary>Emits the samples still held in open runs (the source has ended). Call on the thread that ran the source.</summary>
    public void FlushSamples() => _runs?.Flush();

    private void OnAnyEvent(TraceEvent e)
    {

        try
        {
            if (e.ProviderGuid == MetricsGuid || e.ProviderName == SessionProviders.MetricsProvider)
            {
                OnMetricsEvent(e);
            }
            else if (e.ProviderGuid == AgentGuid || e.ProviderName == SessionProviders.AgentProvider)
            {
                OnAgentEvent(e);
            }
        }
        catch (Exception ex) when (ex is InvalidCastException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException or NullReferenceException)
        {
            // A payload of another version than expected: skip the event, never the session.
        }
    }

    private void OnMetricsEvent(TraceEvent e)
    {
        var id = (int)e.ID;
        if (id is not (CounterRateValuePublished or GaugeValuePublished or HistogramValuePublished or UpDownCounterRateValuePublished))
        {
            return;
        }

        // (sessionId, meterName, meterVersion, instrumentName, unit, tags, ...)
        var payload = new PayloadReader(e.EventData());
        payload.SkipString();
        var meter = payload.ReadString();
        payload.SkipString();
        var instrument = payload.ReadString();
        payload.SkipString();
        payload.SkipString();
        switch (id)
        {
            case CounterRateValuePublished or UpDownCounterRateValuePublished:
                // (..., rate, value, instrumentId): value is the instrument's current/cumulative value.
                payload.SkipString();
                if (TryDouble(payload.ReadString(), out var value))
                {
                    _sink(new MetricValue(e.TimeStampRelativeMSec, meter, instrument, value));
                }

                break;
            case GaugeValuePublished:
                if (TryDouble(payload.ReadString(), out var last))
                {
                    _sink(new MetricValue(e.TimeStampRelativeMSec, meter, instrument, last));
                }

                break;
            case HistogramValuePublished:
                // (..., quantiles "0.5=1.2;0.95=3;0.99=4", count, sum, instrumentId)
                var quantiles = new Dictionary<double, double>();
                var quantileText = payload.ReadString();
                var count = payload.ReadInt32();
                foreach (var pair in quantileText.Split(';', StringSplitOptions.RemoveEmptyEntries))
                {
                    var parts = pair.Split('=');
                    if (parts.Length == 2 && TryDouble(parts[0], out var q) && TryDouble(parts[1], out var v))
                    {
                        quantiles[q] = v;
                    }
                }

                _sink(new MetricHistogram(e.TimeStampRelativeMSec, meter, instrument, quantiles, count));
                break;
        }
    }

    private void OnAgentEvent(TraceEvent e)
    {
        var t = e.TimeStampRelativeMSec;
        var data = e.EventData();
        var id = (int)e.ID;
        // The agent's EventSource is self-describing (EtwSelfDescribingEventFormat): over EventPipe its events carry
        // per-process metadata ids (measured: 156, 157, ...) instead of the declared ones, and TraceEvent 4.0 shows
        // neither event nor payload names. So the declared ids are trusted only in their range, and otherwise the event
        // is recognized by its payload's shape: AgentStarted (string, string, int32), UnobservedTaskException (3 strings).
        // The two spike events (int64, int64) cannot be told apart by shape and are skipped then: the histograms carry the delay.
        if (id is >= AgentStartedId and <= UnobservedTaskExceptionId && !string.IsNullOrEmpty(e.EventName) && !e.EventName.StartsWith("EventID(", StringComparison.Ordinal))
        {
            id = e.EventName switch
            {
                "AgentStarted" => AgentStartedId,
                "QueueDelaySpike" => QueueDelaySpikeId,
                "TimerLagSpike" => TimerLagSpikeId,
                "UnobservedTaskException" => UnobservedTaskExceptionId,
                _ => id,
            };
        }
        else if (id is < AgentStartedId or > UnobservedTaskExceptionId || data.Length != ExpectedLength(id, data))
        {
            id = InferAgentEvent(data);
        }

        var payload = new PayloadReader(data);
        switch (id)
        {
            case AgentStartedId:
                _sink(new AgentStarted(t, payload.ReadString(), payload.ReadString()));
                break;
            case QueueDelaySpikeId:
                _sink(new QueueDelaySpike(t, payload.ReadInt64() / 1000.0, payload.ReadInt64() / 1000.0));
                break;
            case TimerLagSpikeId:
                _sink(new TimerLagSpike(t, payload.ReadInt64() / 1000.0, payload.ReadInt64() / 1000.0));
                break;
            case UnobservedTaskExceptionId:
                _sink(new UnobservedTaskException(t, payload.ReadString(), payload.ReadString(), payload.ReadString()));
                break;
        }
    }

    /// <summary>The payload length the declared event <paramref name="id"/> would have, or -1 when it does not fit.</summary>
    private static int ExpectedLength(int id, ReadOnlySpan<byte> data) => id switch
    {
        QueueDelaySpikeId or TimerLagSpikeId => 16,
        _ => InferAgentEvent(data) == id ? data.Length : -1,
    };

    /// <summary>AgentStarted or UnobservedTaskException from the payload's shape; 0 when neither.</summary>
    internal static int InferAgentEvent(ReadOnlySpan<byte> data)
    {
        var reader = new PayloadReader(data);
        reader.SkipString();
        reader.SkipString();
        if (reader.Remaining == 4)
        {
            return AgentStartedId;
        }

        reader.SkipString();
        return reader.Remaining == 0 && data.Length > 6 ? UnobservedTaskExceptionId : 0;
    }

    private static bool TryDouble(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);

    private CallStack TraceLogStackOf(TraceEvent e)
    {
        var index = e.CallStackIndex();
        if (index == CallStackIndex.Invalid)
        {
            return CallStack.Empty;
        }

        // Stacks repeat (a sampled idle thread has the same one every millisecond): cache them, but forget the cache
        // every second of trace time because methods compiled later resolve frames that were bare addresses before.
        if (e.TimeStampRelativeMSec - _stacksClearedAtMs > 1000)
        {
            // This event's stack is resolved first: the trim below reissues call-stack indexes, this one's included.
            var current = Resolve(e);
            _stacks.Clear();
            _stacksClearedAtMs = e.TimeStampRelativeMSec;
            TrimInternedStacks(e);
            return current;
        }

        if (_stacks.TryGetValue(index, out var cached))
        {
            return cached;
        }

        var stack = Resolve(e);
        _stacks[index] = stack;
        return stack;
    }

    /// <summary>
    /// A live TraceLog interns every distinct stack it sees and never forgets one (microsoft/perfview#2451): under a
    /// sampling profiler its tables grow all session long (measured on BlockingApp: 800–2,000 new stacks a second, each a
    /// node plus a callee list, kept in gen2 with arrays that double). With nothing keyed by a call-stack index left (the
    /// cache is empty, this event's stack is resolved), TrimLiveSessionState (microsoft/perfview#2452) drops them; it must
    /// run on the dispatching thread, inside a callback, which is where we are. Method names are kept.
    /// </summary>
    private void TrimInternedStacks(TraceEvent e)
    {
        if (_trimUnsupported || e.Source is not TraceLog { IsRealTime: true } log)
        {
            return;
        }

        try
        {
            log.TrimLiveSessionState();
            StackTrims++;
        }
        catch (Exception ex) when (ex is InvalidOperationException or NotSupportedException)
        {
            // Refused (a TraceEvent that checks its contract differently): keep the session, grow as before.
            _trimUnsupported = true;
        }
    }

    private static CallStack Resolve(TraceEvent e)
    {
        var frames = new List<string>();
        for (var frame = e.CallStack(); frame is not null; frame = frame.Caller)
        {
            var name = frame.CodeAddress.FullMethodName;
            if (!string.IsNullOrEmpty(name))
            {
                var normalized = CallStack.NormalizeMethodName(name);
                if (frames.Count == 0 || frames[^1] != normalized)
                {
                    frames.Add(normalized);
                }
            }
        }

        return new CallStack(frames);
    }
}
