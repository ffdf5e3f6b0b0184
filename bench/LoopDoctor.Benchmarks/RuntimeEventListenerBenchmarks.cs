using System.Diagnostics.Metrics;
using BenchmarkDotNet.Attributes;
using LoopDoctor.Agent;
using LoopDoctor.Agent.Metrics;
using LoopDoctor.Agent.RuntimeSignals;

namespace LoopDoctor.Benchmarks;

/// <summary>
/// What the runtime listener costs per event, on the listener's side: the work done for each decoded runtime event
/// (pairing a wait, counting a contention or an injection, recording into the LoopDoctor instruments with a
/// MeterListener attached, as the OpenTelemetry SDK would be). EventWrittenEventArgs cannot be constructed outside the
/// runtime, so these call the handler methods OnEventWritten dispatches to; the decoding the runtime does before that is
/// measured end to end by <see cref="BlockingWaitCostBenchmarks"/>.
/// Run: dotnet run -c Release --project bench/LoopDoctor.Benchmarks -- --filter '*RuntimeEventListener*'
/// </summary>
[MemoryDiagnoser]
public class RuntimeEventListenerBenchmarks
{
    private LoopDoctorInstruments _instruments = null!;
    private MeterListener _meterListener = null!;
    private RuntimeEventListener _listener = null!;
    private PoolThreadWaitTracker _waits = null!;
    private long _ticks;
    private long _goal;

    [GlobalSetup]
    public void Setup()
    {
        _instruments = new LoopDoctorInstruments();
        _meterListener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter, _instruments.Meter))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        _meterListener.SetMeasurementEventCallback<long>(static (_, _, _, _) => { });
        _meterListener.SetMeasurementEventCallback<double>(static (_, _, _, _) => { });
        _meterListener.Start();

        // Every runtime signal off: no EventPipe session, so only the calls below reach the handlers.
        _listener = new RuntimeEventListener(new LoopDoctorOptions
        {
            CaptureThreadInjections = false, CaptureBlockingWaits = false, CaptureLockContention = false,
        }, _instruments);
        _waits = _listener.WaitTracker;
        _waits.WorkerSeen(42);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _listener.Dispose();
        _meterListener.Dispose();
        _instruments.Dispose();
    }

    /// <summary>WaitHandleWaitStart + WaitHandleWaitStop on a known pool worker (two events, one counted wait).</summary>
    [Benchmark]
    public void PoolWaitStartStop()
    {
        _ticks += 1000;
        _waits.WaitStarted(42, _ticks, 1);
        _waits.WaitStopped(42, _ticks + 500);
    }

    /// <summary>The same pair on a thread that is not a pool worker (parked, then dropped at the per-thread cap).</summary>
    [Benchmark]
    public void NonPoolWaitStartStop()
    {
        _ticks += 1000;
        _waits.WaitStarted(7, _ticks, 0);
        _waits.WaitStopped(7, _ticks + 500);
    }

    /// <summary>One managed ContentionStop.</summary>
    [Benchmark]
    public void ContentionStop() => _listener.HandleContention(0, 1_500_000);

    /// <summary>One upward ThreadPoolWorkerThreadAdjustment (starvation).</summary>
    [Benchmark]
    public void ThreadInjection() => _listener.HandleAdjustment(++_goal, RuntimeEventListener.StarvationReason);
}

/// <summary>
/// End to end, in the host: the cost the listener adds to a blocking wait. Two dedicated threads ping-pong through
/// Monitor.Wait/Pulse (each round trip = 2 blocking waits = 4 WaitHandle events) with and without a listener capturing
/// blocking waits. The difference is what every blocking wait in an app pays for the runtime writing the events into
/// EventPipe (the listener's decoding and handling run on the runtime's dispatch thread, not on the waiting thread).
/// </summary>
public class BlockingWaitCostBenchmarks
{
    private readonly object _gate = new();
    private bool _partnersTurn;
    private volatile bool _stop;
    private Thread? _partner;
    private LoopDoctorInstruments? _instruments;
    private RuntimeEventListener? _listener;

    [Params(false, true)]
    public bool Listener { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        if (Listener)
        {
            _instruments = new LoopDoctorInstruments();
            _listener = new RuntimeEventListener(new LoopDoctorOptions(), _instruments);
        }

        _partner = new Thread(() =>
        {
            lock (_gate)
            {
                while (!_stop)
                {
                    while (!_partnersTurn && !_stop)
                    {
                        Monitor.Wait(_gate);
                    }

                    _partnersTurn = false;
                    Monitor.Pulse(_gate);
                }
            }
        }) { IsBackground = true };
        _partner.Start();
    }

    [Benchmark]
    public void MonitorRoundTrip()
    {
        lock (_gate)
        {
            _partnersTurn = true;
            Monitor.Pulse(_gate);
            while (_partnersTurn)
            {
                Monitor.Wait(_gate);
            }
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        lock (_gate)
        {
            _stop = true;
            Monitor.PulseAll(_gate);
        }

        _partner?.Join();
        _listener?.Dispose();
        _instruments?.Dispose();
    }
}
