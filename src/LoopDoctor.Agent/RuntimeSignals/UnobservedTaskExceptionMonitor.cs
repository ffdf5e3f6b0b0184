using LoopDoctor.Agent.Diagnostics;
using LoopDoctor.Agent.Metrics;

namespace LoopDoctor.Agent.RuntimeSignals;

/// <summary>
/// Counts <see cref="TaskScheduler.UnobservedTaskException"/> (a faulted task collected without anyone reading its
/// exception: the .NET twin of asyncio's "Task exception was never retrieved") by exception type, and writes
/// <c>LoopDoctor-Agent/UnobservedTaskException</c> events.
/// </summary>
/// <remarks>
/// The runtime always hands over an <see cref="AggregateException"/> wrapping the task's exception(s); the wrapper's
/// type says nothing, so each inner exception (flattened, at most <see cref="MaxInnerExceptionsPerEvent"/>) is counted
/// and reported with its own type and stack. <c>error.type</c> is the full type name; after
/// <see cref="LoopDoctorOptions.MaxExceptionTypes"/> distinct names every new type is counted as <c>other</c> so the
/// label set stays bounded. Messages are sent only with <see cref="LoopDoctorOptions.IncludeExceptionMessages"/>
/// (they may hold personal data), stacks and messages are truncated so an event stays well under EventPipe's size limit.
/// <c>SetObserved()</c> is called only with <see cref="LoopDoctorOptions.ObserveUnobservedTaskExceptions"/>.
/// The handler runs on the finalizer thread: it never throws and takes no lock held by anyone else.
/// </remarks>
internal sealed class UnobservedTaskExceptionMonitor : IDisposable
{
    internal const string OtherType = "other";
    internal const int MaxInnerExceptionsPerEvent = 8;
    internal const int MaxStackTraceLength = 8192;
    internal const int MaxMessageLength = 1024;

    private readonly LoopDoctorOptions _options;
    private readonly LoopDoctorInstruments _instruments;
    private readonly Lock _typesLock = new();
    private readonly HashSet<string> _types = new(StringComparer.Ordinal);
    private long _exceptions;
    private int _disposed;

    public UnobservedTaskExceptionMonitor(LoopDoctorOptions options, LoopDoctorInstruments instruments)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(instruments);
        _options = options;
        _instruments = instruments;
        TaskScheduler.UnobservedTaskException += OnUnobservedTaskException;
    }

    /// <summary>Unobserved exceptions counted since start (inner exceptions, not wrappers).</summary>
    public long UnobservedExceptions => Interlocked.Read(ref _exceptions);

    private void OnUnobservedTaskException(object? sender, UnobservedTaskExceptionEventArgs args)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        try
        {
            Record(args.Exception);
            if (_options.ObserveUnobservedTaskExceptions)
            {
                args.SetObserved();
            }
        }
        catch (Exception)
        {
            // Never let the agent turn an app's unobserved exception into a crash of its own.
        }
    }

    internal void Record(Exception? exception)
    {
        if (exception is null)
        {
            return;
        }

        if (exception is AggregateException aggregate)
        {
            var inner = aggregate.Flatten().InnerExceptions;
            if (inner.Count > 0)
            {
                for (var i = 0; i < inner.Count && i < MaxInnerExceptionsPerEvent; i++)
                {
                    RecordOne(inner[i]);
                }

                return;
            }
        }

        RecordOne(exception);
    }

    private void RecordOne(Exception exception)
    {
        var typeName = exception.GetType().FullName ?? exception.GetType().Name;
        Interlocked.Increment(ref _exceptions);
        _instruments.UnobservedExceptions.Add(1, new KeyValuePair<string, object?>("error.type", BoundedTypeLabel(typeName)));

        var message = _options.IncludeExceptionMessages ? Truncate(exception.Message, MaxMessageLength) : string.Empty;
        LoopDoctorEventSource.Log.UnobservedTaskException(typeName, Truncate(exception.StackTrace, MaxStackTraceLength), message);
    }

    private string BoundedTypeLabel(string typeName)
    {
        lock (_typesLock)
        {
            if (_types.Contains(typeName))
            {
                return typeName;
            }

            if (_types.Count < _options.MaxExceptionTypes)
            {
                _types.Add(typeName);
                return typeName;
            }

            return OtherType;
        }
    }

    private static string Truncate(string? text, int max)
        => text is null ? string.Empty : text.Length <= max ? text : text[..max];

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            TaskScheduler.UnobservedTaskException -= OnUnobservedTaskException;
        }
    }
}
