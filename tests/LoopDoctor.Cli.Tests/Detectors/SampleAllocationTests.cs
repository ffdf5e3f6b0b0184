using LoopDoctor.Cli.Projections;
using LoopDoctor.Cli.Signals;
using LoopDoctor.Cli.Tests.Attribution;
using Xunit.Abstractions;

namespace LoopDoctor.Cli.Tests.Detectors;

/// <summary>
/// What the long-callback projection allocates per stack sample: a monitor or a long trace feeds it millions, so the
/// attribution of a stack is built once per distinct stack and the endpoint once per request, not once per sample.
/// Allocation counts are deterministic (this thread's bytes), so the bounds are exact properties, not timings.
/// </summary>
public sealed class SampleAllocationTests(ITestOutputHelper output)
{
    private const int Samples = 2000;

    private static readonly string[] PoolDispatch =
    [
        "System.Threading.ThreadPoolWorkQueue.Dispatch",
        "System.Threading.PortableThreadPool.WorkerThread.WorkerThreadStart",
        "System.Threading.Thread.StartCallback",
    ];

    [Fact]
    public void A_sample_outside_a_request_allocates_nothing_for_its_attribution()
    {
        var stack = new CallStack(["System.Threading.Thread.Sleep", "Shop.Jobs.NightlyReport.Build", "Shop.Jobs.NightlyReport.Run", .. PoolDispatch]);
        var bytes = BytesPerSample(new LongCallbacks(4, 100), stack, threadId: 7);
        output.WriteLine($"{bytes:0.0} bytes per sample outside a request");

        Assert.True(bytes < 8, $"{bytes:0.0} bytes per sample");
    }

    [Fact]
    public void A_sample_inside_a_request_allocates_at_most_one_small_attribution()
    {
        var requests = new RequestsOnThreads();
        requests.Observe(new RequestMarker(1, 5, RequestMarkerKind.EndpointMatched, "GET", "/api/DiagScenario/tasksleepwait", null, null));
        requests.Observe(new RequestMarker(2, 5, RequestMarkerKind.BeforeAction, "GET", "/api/DiagScenario/tasksleepwait",
            "testwebapi.Controllers.DiagScenarioController.TaskSleepWait (DiagnosticScenarios)", "api/DiagScenario/tasksleepwait"));
        var longCallbacks = new LongCallbacks(4, 100, requests: requests);

        var bytes = BytesPerSample(longCallbacks, InlinedEndpointAttributionTests.MvcSleep, threadId: 5);
        output.WriteLine($"{bytes:0.0} bytes per sample inside a request");

        // One Attribution record (the stack's, with the request's endpoint) is ~80 bytes; a key string or a new endpoint per sample is more.
        Assert.True(bytes < 100, $"{bytes:0.0} bytes per sample");
        Assert.Equal("GET api/DiagScenario/tasksleepwait → testwebapi.Controllers.DiagScenarioController.TaskSleepWait (DiagnosticScenarios)",
            Assert.Single(longCallbacks.Current).Site.Endpoint?.Describe());
    }

    private static double BytesPerSample(LongCallbacks projection, CallStack stack, int threadId)
    {
        // The samples are built first: what is measured is the projection's work, not the test's signals.
        var signals = Enumerable.Range(0, 2 * Samples).Select(i => new StackSample(10 + i, threadId, SampleKind.External, stack)).ToArray();
        for (var i = 0; i < Samples; i++)
        {
            projection.Observe(signals[i]);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = Samples; i < 2 * Samples; i++)
        {
            projection.Observe(signals[i]);
        }

        return (GC.GetAllocatedBytesForCurrentThread() - before) / (double)Samples;
    }
}
