using System.Diagnostics;
using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace LoopDoctor.Bench.Infrastructure;

/// <summary>One garbage collection as the runtime reported it: suspension begin → restart end is the pause the app saw.</summary>
internal sealed record ObservedGc(int Generation, GCType Type, GCReason Reason, double SuspendBeginMs, double PauseMs);

/// <summary>What one short runtime-provider session saw, and how long the harness waited for it.</summary>
internal sealed record GcSessionResult(IReadOnlyList<ObservedGc> Collections, double StartCallMs, double SessionMs);

/// <summary>
/// A short EventPipe session on the runtime provider at Informational level, read live: with <c>induce</c> the keywords are
/// GC (0x1) | GCHeapCollect (0x800000), exactly what <c>LiveSession.InduceGarbageCollectionAsync</c> in the CLI starts
/// (the runtime answers GCHeapCollect with one blocking gen2 collection, as for dotnet-gcdump); without it GC (0x1) alone,
/// the control: the same session, no collection asked for. The GC keyword's own events
/// (GCSuspendEEBegin, GCStart, GCRestartEEEnd) measure the pause in the runtime's timestamps.
/// </summary>
internal static class GcSession
{
    private const string RuntimeProvider = "Microsoft-Windows-DotNETRuntime";
    private const long GcKeyword = 0x1;
    private const long GcHeapCollectKeyword = 0x800000;

    /// <summary>
    /// Runs the session until a gen2 collection has ended (<paramref name="induce"/>: the induced one; the control ends
    /// early only if the target collects on its own) or <paramref name="window"/> elapses, then stops it and drains the stream.
    /// </summary>
    public static async Task<GcSessionResult> RunAsync(int pid, bool induce, TimeSpan window, CancellationToken cancellationToken)
    {
        var client = new DiagnosticsClient(pid);
        var collections = new List<ObservedGc>();
        var gen2Ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var clock = Stopwatch.StartNew();
        using var session = client.StartEventPipeSession(
            new EventPipeProvider(RuntimeProvider, EventLevel.Informational, induce ? GcKeyword | GcHeapCollectKeyword : GcKeyword),
            requestRundown: false, circularBufferMB: 16);
        double startCallMs = clock.Elapsed.TotalMilliseconds;
        var source = new EventPipeEventSource(session.EventStream);
        double suspendBegin = double.NaN;
        (int Depth, GCType Type, GCReason Reason)? current = null;
        source.Clr.GCSuspendEEStart += e => suspendBegin = e.TimeStampRelativeMSec;
        source.Clr.GCStart += e => current = (e.Depth, e.Type, e.Reason);
        source.Clr.GCRestartEEStop += e =>
        {
            if (current is not { } gc || double.IsNaN(suspendBegin))
            {
                return;   // a restart without its start (the session began mid-collection): not a whole pause
            }

            lock (collections)
            {
                collections.Add(new ObservedGc(gc.Depth, gc.Type, gc.Reason, suspendBegin, e.TimeStampRelativeMSec - suspendBegin));
            }

            if (gc.Depth == 2)
            {
                gen2Ended.TrySetResult();
            }

            current = null;
            suspendBegin = double.NaN;
        };
        var processing = Task.Factory.StartNew(() =>
        {
            try
            {
                source.Process();
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or EndOfStreamException)
            {
                // The stream closed under us when the session stopped: the end.
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        await Task.WhenAny(gen2Ended.Task, Task.Delay(window, cancellationToken)).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        double sessionMs = clock.Elapsed.TotalMilliseconds;
        using (var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            await session.StopAsync(stop.Token).ConfigureAwait(false);
        }

        if (await Task.WhenAny(processing, Task.Delay(TimeSpan.FromSeconds(30), cancellationToken)).ConfigureAwait(false) != processing)
        {
            throw new BenchException($"the GC session on {pid} did not drain within 30 s of its stop");
        }

        source.Dispose();
        lock (collections)
        {
            return new GcSessionResult([.. collections], startCallMs, sessionMs);
        }
    }
}
