using System.Text;
using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Signals;
using LoopDoctor.Cli.Sources.Decoders;
using LoopDoctor.Cli.Tests.Detectors;

namespace LoopDoctor.Cli.Tests.Attribution;

/// <summary>
/// Attribution when the JIT inlined the user's code away. The stacks are copied from a live session on .NET 10.0.12
/// against Microsoft's "Debug ThreadPool starvation" tutorial app at tier 1 (docs/accuracy.md): an MVC action's
/// <c>.Result</c> and <c>Thread.Sleep</c> loop, and a minimal API handler calling a sync-over-async wrapper, all three
/// inlined into ASP.NET Core's expression-compiled delegates.
/// </summary>
public sealed class InlinedEndpointAttributionTests
{
    private const string Action = "testwebapi.Controllers.DiagScenarioController.TaskWait (DiagnosticScenarios)";

    private static readonly string[] KestrelRequest =
    [
        "Microsoft.AspNetCore.Routing.EndpointMiddleware.Invoke",
        "Microsoft.AspNetCore.Authorization.AuthorizationMiddleware.Invoke",
        "Microsoft.AspNetCore.Authentication.AuthenticationMiddleware.Invoke",
        "Microsoft.AspNetCore.Server.Kestrel.Core.Internal.Http.HttpProtocol.<ProcessRequests>d__237`1.MoveNext",
        "System.Threading.ExecutionContext.RunFromThreadPoolDispatchLoop",
        "System.Runtime.CompilerServices.AsyncTaskMethodBuilder`1.AsyncStateMachineBox`1.ExecuteFromThreadPool",
        "System.Threading.ThreadPoolWorkQueue.Dispatch",
        "System.Threading.PortableThreadPool.WorkerThread.WorkerThreadStart",
        "System.Threading.Thread.StartCallback",
    ];

    private static readonly string[] MvcInvoker =
    [
        "Microsoft.AspNetCore.Mvc.Infrastructure.ControllerActionInvoker.InvokeActionMethodAsync",
        "Microsoft.AspNetCore.Mvc.Infrastructure.ControllerActionInvoker.InvokeNextActionFilterAsync",
        "Microsoft.AspNetCore.Mvc.Infrastructure.ResourceInvoker.InvokeAsync",
        .. KestrelRequest,
    ];

    internal static CallStack MvcResult => new(["System.Threading.Tasks.Task.InternalWaitCore", "System.Threading.Tasks.Task.InternalWait", "System.Threading.Tasks.Task`1.GetResultCore", "dynamicClass.lambda_method3", .. MvcInvoker]);

    internal static CallStack MvcSleep => new(["System.Threading.Thread.Sleep", "dynamicClass.lambda_method10", .. MvcInvoker]);

    internal static CallStack MinimalApiWait => new(["System.Threading.Tasks.Task.InternalWaitCore", "System.Threading.Tasks.Task.InternalWait", "dynamicClass.lambda_method2", .. KestrelRequest]);

    [Fact]
    public void The_stack_says_an_mvc_action_was_inlined_into_the_invoker_and_which_marker_proves_the_request()
    {
        var stack = MvcResult;
        Assert.Empty(stack.ApplicationFrames);
        Assert.Equal(CodeEntry.MvcAction, stack.Entry);
        Assert.True(stack.UserCodeInlined);
        Assert.Equal("dynamicClass.lambda_method3", stack.CompiledDelegateFrame);
        Assert.Equal(RequestScope.MvcAction, stack.RequestScope);
        Assert.Equal(".Result", stack.BlockingApi);

        var handler = MinimalApiWait;
        Assert.Equal(CodeEntry.MinimalApiHandler, handler.Entry);
        Assert.Equal(RequestScope.Request, handler.RequestScope);
        Assert.Equal(CallStack.InlinedTaskWait, handler.BlockingApi);
    }

    [Fact]
    public void Code_resumed_after_an_await_is_not_proven_to_serve_the_threads_last_request()
    {
        // A continuation of an async action: its thread's latest marker may be another request's.
        var continuation = new CallStack(["System.Threading.Tasks.Task.InternalWait", "Shop.Orders.OrderController.<Get>d__4.MoveNext",
            "System.Runtime.CompilerServices.AsyncTaskMethodBuilder`1.AsyncStateMachineBox`1.ExecuteFromThreadPool", .. KestrelRequest]);
        Assert.Equal(RequestScope.None, continuation.RequestScope);
        Assert.NotEmpty(continuation.ApplicationFrames);
    }

    [Fact]
    public void A_wait_in_an_inlined_mvc_action_is_named_by_the_action_its_thread_began_just_before()
    {
        var finding = new SignalBuilder()
            .Worker(5, 0)
            .Add(Marker(5, 10, RequestMarkerKind.EndpointMatched, path: "/api/DiagScenario/taskwait"))
            .Add(Marker(5, 11, RequestMarkerKind.BeforeAction, path: "/api/DiagScenario/taskwait", action: Action, route: "api/DiagScenario/taskwait"))
            .Wait(5, 12, 600, MvcResult)
            .Find(FindingKinds.BlockingWait);

        Assert.NotNull(finding);
        var site = Assert.Single(finding.CallSites);
        Assert.Equal(Action, site.Endpoint?.Action);
        Assert.True(site.MayBeInlined);
        Assert.Contains("the MVC action GET api/DiagScenario/taskwait → " + Action, finding.Title, StringComparison.Ordinal);
        Assert.DoesNotContain("no resolvable", finding.Title, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_marker_before_it_on_its_own_thread_the_action_is_not_named_and_the_report_says_why()
    {
        var finding = new SignalBuilder()
            .Worker(5, 0).Worker(6, 0)
            .Add(Marker(6, 10, RequestMarkerKind.BeforeAction, action: Action))  // another thread's request
            .Add(Marker(5, 700, RequestMarkerKind.BeforeAction, action: Action))  // a later request on this thread
            .Wait(5, 12, 600, MvcResult)
            .Find(FindingKinds.BlockingWait);

        Assert.NotNull(finding);
        var site = Assert.Single(finding.CallSites);
        Assert.Null(site.Endpoint);
        Assert.Contains("an MVC controller action whose code was inlined", site.Describe(), StringComparison.Ordinal);
        Assert.Contains("which one is not known", site.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_sleep_loop_inlined_into_an_mvc_action_is_a_long_callback_blocked_in_thread_sleep_one_per_request()
    {
        var finding = new SignalBuilder()
            .Worker(7, 0)
            .Add(Marker(7, 5, RequestMarkerKind.BeforeAction, action: "Shop.Orders.OrderController.Poll (Shop)"))
            .Samples(7, 10, 400, SampleKind.External, MvcSleep)
            .Add(Marker(7, 401, RequestMarkerKind.BeforeAction, action: "Shop.Orders.OrderController.Poll (Shop)"))
            .Samples(7, 402, 800, SampleKind.Managed, MvcSleep) // Thread.Sleep is sampled as managed at times: still blocked
            .Worker(7, 900)
            .Find(FindingKinds.LongCallback);

        Assert.NotNull(finding);
        Assert.Equal(2, finding.Count);
        var site = Assert.Single(finding.CallSites);
        Assert.Equal("blocked", site.Activity);
        Assert.Equal("Thread.Sleep", site.BlockingApi);
        Assert.Contains("the MVC action Shop.Orders.OrderController.Poll (Shop)", finding.Title, StringComparison.Ordinal);
    }

    [Fact]
    public void Outside_managed_code_without_a_known_api_is_blocked_in_an_unknown_native_call_never_cpu()
    {
        var stack = SignalBuilder.PoolStack("MyApp.Native.Interop.CallVendorLibrary", SignalBuilder.Handler);
        var finding = new SignalBuilder()
            .Worker(8, 0)
            .Samples(8, 10, 400, SampleKind.External, stack)
            .Worker(8, 500)
            .Find(FindingKinds.LongCallback);

        Assert.NotNull(finding);
        var site = Assert.Single(finding.CallSites);
        Assert.Equal("blocked", site.Activity);
        Assert.Equal(CallStack.UnknownNativeCall, site.BlockingApi);
        Assert.Contains("blocked in an unknown native call", finding.Title, StringComparison.Ordinal);
    }

    [Fact]
    public void A_wait_that_began_before_the_session_is_read_from_samples_even_when_the_runtime_sends_wait_events()
    {
        var parked = SignalBuilder.PoolStack("System.Threading.Tasks.Task.InternalWait", "System.Threading.Tasks.Task`1.GetResultCore", SignalBuilder.Helper, SignalBuilder.Handler);
        var finding = new SignalBuilder()
            .Worker(3, 0).Worker(9, 0)
            .Wait(3, 5, 20, parked) // the runtime sends wait events in this session
            .Samples(9, 1, 2000, SampleKind.External, parked) // thread 9 was parked before the attach: no start event, ever
            .Find(FindingKinds.BlockingWait);

        Assert.NotNull(finding);
        Assert.False(finding.Estimated);
        Assert.True(finding.MaxMilliseconds >= 1999, $"max {finding.MaxMilliseconds}");
        Assert.Contains(finding.Evidence, e => e.StartsWith("1 of these waits had begun before LoopDoctor attached", StringComparison.Ordinal));
        Assert.Equal(SignalBuilder.Helper, finding.CallSites[0].Frames[0]);
    }

    [Fact]
    public void The_agents_route_pattern_and_the_bridges_path_for_one_routing_decision_make_one_endpoint()
    {
        var wait = MinimalApiWait;
        var finding = new SignalBuilder()
            .Worker(4, 0)
            .Add(Marker(4, 10.000, RequestMarkerKind.EndpointMatched, path: "/api/stock/SKU-1"))
            .Add(LoopDoctor.Cli.Sources.Decoders.AgentEventDecoder.EndpointMarker(10.002, 4, "/api/stock/{sku}", "HTTP: GET /api/stock/{sku}"))
            .Wait(4, 11, 500, wait)
            .Find(FindingKinds.BlockingWait);

        Assert.NotNull(finding);
        var endpoint = Assert.Single(finding.CallSites).Endpoint;
        Assert.NotNull(endpoint);
        Assert.Equal("/api/stock/{sku}", endpoint.Route);
        Assert.Equal("/api/stock/SKU-1", endpoint.Path);
        Assert.Equal("GET /api/stock/{sku}", endpoint.StableName);
        Assert.Contains("the handler of GET /api/stock/{sku}", finding.Title, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_requests_in_a_row_on_one_thread_are_never_merged_into_one()
    {
        var finding = new SignalBuilder()
            .Worker(4, 0)
            .Add(Marker(4, 10.0, RequestMarkerKind.EndpointMatched, path: "/api/stock/SKU-1"))
            .Add(Marker(4, 10.5, RequestMarkerKind.EndpointMatched, path: "/healthz"))
            .Wait(4, 11, 500, MinimalApiWait)
            .Find(FindingKinds.BlockingWait);

        Assert.Equal("/healthz", finding?.CallSites[0].Endpoint?.Path);
    }

    [Fact]
    public void The_bridge_payload_is_read_as_source_event_and_arguments()
    {
        var payload = Utf16("Microsoft.AspNetCore").Concat(Utf16("Microsoft.AspNetCore.Mvc.BeforeAction"))
            .Concat(BitConverter.GetBytes((ushort)2))
            .Concat(Utf16("Action")).Concat(Utf16(Action))
            .Concat(Utf16("Route")).Concat(Utf16("api/DiagScenario/taskwait"))
            .ToArray();

        var read = DiagnosticSourceDecoder.Read(payload);

        Assert.NotNull(read);
        Assert.Equal("Microsoft.AspNetCore.Mvc.BeforeAction", read.Value.EventName);
        Assert.Equal(Action, read.Value.Arguments["Action"]);
        Assert.Equal("api/DiagScenario/taskwait", read.Value.Arguments["Route"]);
        Assert.Null(DiagnosticSourceDecoder.Read(Utf16("System.Net.Http").Concat(Utf16("Request")).ToArray()));
    }

    private static byte[] Utf16(string text) => [.. Encoding.Unicode.GetBytes(text), 0, 0];

    private static RequestMarker Marker(int thread, double at, RequestMarkerKind kind, string? path = null, string? action = null, string? route = null) =>
        new(at, thread, kind, "GET", path, action, route);
}
