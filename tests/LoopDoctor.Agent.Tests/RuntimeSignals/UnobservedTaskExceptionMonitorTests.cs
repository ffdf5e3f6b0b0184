using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using LoopDoctor.Agent.Diagnostics;
using LoopDoctor.Agent.Metrics;
using LoopDoctor.Agent.RuntimeSignals;

namespace LoopDoctor.Agent.Tests.RuntimeSignals;

/// <summary>
/// Real unobserved task exceptions: a faulted task nobody awaits, collected by the GC. Each test throws its own exception
/// type, because every subscribed monitor in the process sees every unobserved exception.
/// </summary>
public sealed class UnobservedTaskExceptionMonitorTests
{
    private const string UnobservedExceptions = "loopdoctor.task.unobserved_exceptions";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private sealed class NeverAwaitedException(string message) : Exception(message);
    private sealed class WithMessageException(string message) : Exception(message);
    private sealed class ObservedByAgentException(string message) : Exception(message);
    private sealed class AfterDisposeException(string message) : Exception(message);
    private sealed class FirstException : Exception;
    private sealed class SecondException : Exception;

    [Fact]
    public void Unobserved_exception_is_counted_by_type_and_reported_without_its_message()
    {
        using var instruments = new LoopDoctorInstruments();
        using var recorder = new MeasurementRecorder(instruments.Meter);
        using var events = new AgentEventCollector();
        using var monitor = new UnobservedTaskExceptionMonitor(new LoopDoctorOptions(), instruments);
        var type = typeof(NeverAwaitedException).FullName!;

        FaultAndCollectUntil(() => new NeverAwaitedException("secret customer 42"),
            () => recorder.Of(UnobservedExceptions).Any(m => m.Tag("error.type") == type) && events.Has(type));

        Assert.Equal(1, recorder.Of(UnobservedExceptions).First(m => m.Tag("error.type") == type).Value);
        var reported = events.For(type);
        Assert.Equal(string.Empty, reported.Message);
        Assert.Contains(nameof(ThrowAsync), reported.StackTrace); // the throw site
    }

    [Fact]
    public void Message_is_reported_only_when_opted_in()
    {
        using var instruments = new LoopDoctorInstruments();
        using var events = new AgentEventCollector();
        using var monitor = new UnobservedTaskExceptionMonitor(new LoopDoctorOptions { IncludeExceptionMessages = true }, instruments);
        var type = typeof(WithMessageException).FullName!;

        FaultAndCollectUntil(() => new WithMessageException("the message"), () => events.Has(type));

        Assert.Equal("the message", events.For(type).Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void SetObserved_is_called_only_when_configured(bool observe)
    {
        using var instruments = new LoopDoctorInstruments();
        using var monitor = new UnobservedTaskExceptionMonitor(new LoopDoctorOptions { ObserveUnobservedTaskExceptions = observe }, instruments);
        var observedFlags = new ConcurrentQueue<bool>();
        // Subscribed after the monitor, so it runs after it and sees what the monitor did.
        EventHandler<UnobservedTaskExceptionEventArgs> after = (_, args) =>
        {
            if (args.Exception.InnerException is ObservedByAgentException)
            {
                observedFlags.Enqueue(args.Observed);
            }
        };
        TaskScheduler.UnobservedTaskException += after;
        try
        {
            FaultAndCollectUntil(() => new ObservedByAgentException("x"), () => !observedFlags.IsEmpty);
            Assert.All(observedFlags, flag => Assert.Equal(observe, flag));
        }
        finally
        {
            TaskScheduler.UnobservedTaskException -= after;
        }
    }

    [Fact]
    public void Disposed_monitor_no_longer_counts()
    {
        using var instruments = new LoopDoctorInstruments();
        using var stillRunning = new LoopDoctorInstruments();
        using var disposedRecorder = new MeasurementRecorder(instruments.Meter);
        using var runningRecorder = new MeasurementRecorder(stillRunning.Meter);
        var disposed = new UnobservedTaskExceptionMonitor(new LoopDoctorOptions(), instruments);
        disposed.Dispose();
        using var running = new UnobservedTaskExceptionMonitor(new LoopDoctorOptions(), stillRunning);
        var type = typeof(AfterDisposeException).FullName!;

        FaultAndCollectUntil(() => new AfterDisposeException("x"),
            () => runningRecorder.Of(UnobservedExceptions).Any(m => m.Tag("error.type") == type));

        Assert.DoesNotContain(disposedRecorder.Of(UnobservedExceptions), m => m.Tag("error.type") == type);
        Assert.Equal(0, disposed.UnobservedExceptions);
    }

    [Fact]
    public void Aggregate_reports_its_inner_types_and_distinct_types_are_capped()
    {
        using var instruments = new LoopDoctorInstruments();
        using var recorder = new MeasurementRecorder(instruments.Meter);
        using var monitor = new UnobservedTaskExceptionMonitor(new LoopDoctorOptions { MaxExceptionTypes = 2 }, instruments);

        // What the runtime hands over for Task.WhenAll with two failures, one nested.
        monitor.Record(new AggregateException(new FirstException(), new AggregateException(new SecondException())));
        monitor.Record(new AggregateException(new InvalidOperationException()));
        monitor.Record(new AggregateException(new FirstException()));

        Assert.Equal(
            [typeof(FirstException).FullName, typeof(SecondException).FullName, UnobservedTaskExceptionMonitor.OtherType, typeof(FirstException).FullName],
            recorder.Of(UnobservedExceptions).Select(m => m.Tag("error.type")));
        Assert.Equal(4, monitor.UnobservedExceptions);
    }

    /// <summary>Faults a task nobody observes, then collects until <paramref name="seen"/> or the timeout.</summary>
    private static void FaultAndCollectUntil(Func<Exception> create, Func<bool> seen)
    {
        FaultUnobserved(create);
        var deadline = DateTime.UtcNow + Timeout;
        while (!seen())
        {
            Assert.True(DateTime.UtcNow < deadline, "the unobserved exception was not reported in time");
            GC.Collect();
            GC.WaitForPendingFinalizers(); // the finalizer raises UnobservedTaskException: this is the signal we wait on
        }
    }

    private static void FaultUnobserved(Func<Exception> create)
    {
        // Completed synchronously and dropped: no reference survives this frame.
        _ = ThrowAsync(create);
    }

    private static async Task ThrowAsync(Func<Exception> create)
    {
        await Task.CompletedTask;
        throw create();
    }

    /// <summary>A real EventListener on <c>LoopDoctor-Agent</c> collecting UnobservedTaskException events.</summary>
    private sealed class AgentEventCollector : EventListener
    {
        private readonly ConcurrentQueue<(string Type, string StackTrace, string Message)> _events = new();

        public bool Has(string type) => _events.Any(e => e.Type == type);

        public (string Type, string StackTrace, string Message) For(string type) => _events.First(e => e.Type == type);

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == LoopDoctorEventSource.SourceName)
            {
                EnableEvents(eventSource, EventLevel.Warning, LoopDoctorEventSource.Keywords.Exceptions);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData)
        {
            if (eventData.EventName == nameof(LoopDoctorEventSource.UnobservedTaskException) && eventData.Payload is { Count: 3 } p)
            {
                _events.Enqueue(((string)p[0]!, (string)p[1]!, (string)p[2]!));
            }
        }
    }
}
