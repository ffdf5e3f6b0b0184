using LoopDoctor.Cli.Baselines;
using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Tests.Contract;

/// <summary>
/// .NET 11 readiness (docs/cli.md): runtime async compiles an async method into the method itself, so its frame is
/// <c>Type.MethodAsync</c> instead of a state machine's <c>Type+&lt;MethodAsync&gt;d__N.MoveNext</c>. A call site, its
/// application frames and its baseline key must be the same either way, or every baseline breaks on the upgrade.
/// </summary>
public sealed class AsyncFrameNamingTests
{
    private const string StateMachineFrame = "MyApp.Orders.OrderService+<LoadAsync>d__4.MoveNext()";
    private const string RuntimeAsyncFrame = "MyApp.Orders.OrderService.LoadAsync()";

    [Fact]
    public void A_state_machine_frame_and_a_runtime_async_frame_name_the_same_method()
    {
        Assert.Equal(CallStack.NormalizeMethodName(RuntimeAsyncFrame), CallStack.NormalizeMethodName(StateMachineFrame));
        Assert.Equal(CallSiteKey.Normalize(RuntimeAsyncFrame), CallSiteKey.Normalize(StateMachineFrame));
    }

    [Fact]
    public void Call_sites_are_the_same_with_either_naming()
    {
        string[] Stack(string asyncFrame) =>
        [
            "System.Threading.Monitor.Wait", "System.Threading.Tasks.Task`1.get_Result",
            CallStack.NormalizeMethodName("MyApp.Orders.OrderController.Get()"), CallStack.NormalizeMethodName(asyncFrame),
            "System.Threading.ThreadPoolWorkQueue.Dispatch",
        ];

        var before = new CallStack(Stack(StateMachineFrame));
        var after = new CallStack(Stack(RuntimeAsyncFrame));
        Assert.Equal(before.CallSite(), after.CallSite());
        Assert.Equal(before.BlockingApi, after.BlockingApi);
        Assert.Equal(["MyApp.Orders.OrderController.Get", "MyApp.Orders.OrderService.LoadAsync"], after.ApplicationFrames);
    }
}
