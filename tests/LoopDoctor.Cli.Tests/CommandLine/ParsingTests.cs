using LoopDoctor.Cli.CommandLine;
using LoopDoctor.Cli.Signals;
using LoopDoctor.Cli.Targets;

namespace LoopDoctor.Cli.Tests.CommandLine;

public class CallStackTests
{
    [Theory]
    [InlineData("MyApp.Orders+<GetAsync>d__3.MoveNext()", "MyApp.Orders.GetAsync")]
    [InlineData("MyApp.Orders.Get(int32,class System.String)", "MyApp.Orders.Get")]
    [InlineData("MyApp.Program+<>c.<Main>b__0_1", "MyApp.Program.<>c.<Main>b__0_1")]
    [InlineData("System.Threading.Tasks.Task`1[System.Int32].GetResultCore(bool)", "System.Threading.Tasks.Task`1.GetResultCore")]
    [InlineData("MyApp.Cache`2[System.String,System.Collections.Generic.List`1[System.Int32]].Get()", "MyApp.Cache`2.Get")]
    public void Normalizes_runtime_method_names(string raw, string expected) =>
        Assert.Equal(expected, CallStack.NormalizeMethodName(raw));

    [Fact]
    public void Separates_application_frames_from_the_blocking_api()
    {
        var stack = new CallStack(["System.Threading.Monitor.Wait", "System.Threading.Tasks.Task`1.get_Result", "MyApp.A.B", "Microsoft.AspNetCore.Routing.X", "MyApp.A.C", "System.Threading.ThreadPoolWorkQueue.Dispatch"]);
        Assert.Equal(["MyApp.A.B", "MyApp.A.C"], stack.ApplicationFrames);
        Assert.Equal(".Result", stack.BlockingApi);
        Assert.True(stack.HasPoolDispatchFrame);
        Assert.Equal("MyApp.A.C", stack.OutermostApplicationFrame);
    }
}

public class AgentDetectionTests
{
    [Fact]
    public void Refuses_a_path_that_does_not_exist() =>
        Assert.Contains("does not exist", AgentDetection.Verify("/nonexistent/LoopDoctor.StartupHook.dll"));

    [Fact]
    public void Refuses_an_assembly_that_is_not_the_hook() =>
        Assert.Contains("is not LoopDoctor.StartupHook", AgentDetection.Verify(typeof(AgentDetectionTests).Assembly.Location));

    [Fact]
    public void Finds_the_running_process_maps_or_knows_it_cannot()
    {
        // The CLI reads durations with the agent's parser (one grammar), and monitor --prometheus-port serves with the
        // agent's exposition code: any in-process CLI test may have loaded LoopDoctor.Agent.dll. Load it for certain,
        // so this test does not depend on the order tests run in, and the maps must show it.
        Assert.True(LoopDoctor.Agent.Hosting.EnvironmentSettings.TryParseDuration("1s", out _));
        var loaded = AgentDetection.IsAgentLoaded(Environment.ProcessId);
        if (OperatingSystem.IsLinux())
        {
            Assert.True(loaded);
        }
        else
        {
            Assert.Null(loaded);
        }
    }
}
