using System.Collections;
using LoopDoctor.Agent.Hosting;
using Microsoft.Diagnostics.NETCore.Client;

namespace LoopDoctor.Agent.Tests.StartupHook;

/// <summary>The startup hook in real processes: DOTNET_STARTUP_HOOKS at launch, and DiagnosticsClient.ApplyStartupHook later.</summary>
public sealed class StartupHookTests
{
    [Fact]
    public void DOTNET_STARTUP_HOOKS_starts_the_agent_in_StartupHook_mode()
    {
        using var target = HookTargetProcess.Start(withStartupHook: true);

        var started = target.WaitForAgentStarted();
        Assert.Equal("StartupHook", started.Mode);
        Assert.Equal(target.Pid, started.ProcessId);
        Assert.Equal("status assemblies=1 agent=StartupHook metrics=none", target.Status());
        // The agent depends on nothing the app lacks (it loads on .NET 8 and 9 too): no OpenTelemetry comes with it.
        Assert.Equal("load-failed OpenTelemetry", target.Load("OpenTelemetry"));
        Assert.Empty(target.Stderr);
        Assert.Equal(0, target.Exit());
    }

    [Fact]
    public void ApplyStartupHook_injects_one_agent_even_when_applied_twice()
    {
        using var target = HookTargetProcess.Start(withStartupHook: false);
        Assert.Equal("status assemblies=0 agent=none metrics=none", target.Status());
        Assert.Equal("load-failed OpenTelemetry", target.Load("OpenTelemetry")); // nothing resolves it before the hook
        var client = new DiagnosticsClient(target.Pid);

        client.ApplyStartupHook(HookTargetProcess.HookPath);
        var started = target.WaitForAgentStarted();
        Assert.Equal("Injected", started.Mode);
        Assert.Equal(target.Pid, started.ProcessId);

        client.ApplyStartupHook(HookTargetProcess.HookPath);
        Assert.Equal("status assemblies=1 agent=Injected metrics=none", target.Status());
        Assert.Equal("Injected", target.WaitForAgentStarted().Mode);
        Assert.Empty(target.Stderr); // the second Initialize did nothing, quietly
        Assert.Equal(0, target.Exit());
    }

    [Theory]
    [InlineData("LOOPDOCTOR_PROBE_INTERVAL", "fast", "is not a duration")]
    [InlineData("LOOPDOCTOR_PROBE_INTERVAL", "1h", "must be between 1 ms and 10 s")]
    [InlineData("LOOPDOCTOR_METRICS_URL", "http://example.com:9464/metrics", "non-loopback")]
    public void Bad_settings_print_one_line_naming_the_variable_and_the_app_runs_on(string variable, string value, string reason)
    {
        using var target = HookTargetProcess.Start(withStartupHook: true, new Dictionary<string, string> { [variable] = value });

        var error = target.WaitForStderr(l => l.StartsWith(StartupHookRunner.ReportPrefix, StringComparison.Ordinal), "the hook's error line");
        Assert.Contains(variable, error);
        Assert.Contains(reason, error);
        Assert.Equal("status assemblies=1 agent=none metrics=none", target.Status());
        Assert.Equal(0, target.Exit());
        Assert.Single(target.Stderr);
    }

    [Fact]
    public async Task LOOPDOCTOR_METRICS_URL_opens_the_standalone_endpoint_through_the_hook()
    {
        // Port 0: the agent binds an ephemeral port and reports it. The exposition is the agent's own (a MeterListener),
        // so the target app, which ships no OpenTelemetry, needs nothing else.
        using var target = HookTargetProcess.Start(withStartupHook: true,
            new Dictionary<string, string> { ["LOOPDOCTOR_METRICS_URL"] = "http://127.0.0.1:0/metrics" });

        var status = target.Status();
        Assert.StartsWith("status assemblies=1 agent=StartupHook metrics=http://127.0.0.1:", status);
        var url = new Uri(status[(status.IndexOf("metrics=", StringComparison.Ordinal) + "metrics=".Length)..]);
        Assert.NotEqual(0, url.Port);

        using var http = new HttpClient { Timeout = HookTargetProcess.Timeout };
        using var response = await http.GetAsync(url);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.ToString());
        Assert.Contains("# TYPE ", await response.Content.ReadAsStringAsync()); // a real exposition
        Assert.Empty(target.Stderr);
        Assert.Equal(0, target.Exit());
    }

    [Fact]
    public void LOOPDOCTOR_ENABLED_false_starts_nothing_and_says_nothing()
    {
        using var target = HookTargetProcess.Start(withStartupHook: true, new Dictionary<string, string> { ["LOOPDOCTOR_ENABLED"] = "false" });
        Assert.Equal("status assemblies=1 agent=none metrics=none", target.Status());
        Assert.Equal(0, target.Exit());
        Assert.Empty(target.Stderr);
    }

    [Theory]
    [InlineData(null, AgentMode.Injected)]
    [InlineData("", AgentMode.Injected)]
    [InlineData("/opt/loopdoctor/LoopDoctor.StartupHook.dll", AgentMode.StartupHook)]
    [InlineData("/x/Other.dll:/opt/loopdoctor/LoopDoctor.StartupHook.dll", AgentMode.StartupHook)]
    [InlineData("LoopDoctor.StartupHook", AgentMode.StartupHook)]
    [InlineData("/opt/loopdoctor/LoopDoctor.Agent.dll", AgentMode.Injected)]
    [InlineData("/x/Other.dll", AgentMode.Injected)]
    public void Mode_is_StartupHook_only_when_DOTNET_STARTUP_HOOKS_names_the_hook(string? hooks, AgentMode expected)
    {
        var env = new Hashtable();
        if (hooks is not null)
        {
            env["DOTNET_STARTUP_HOOKS"] = hooks.Replace(':', Path.PathSeparator);
        }

        Assert.Equal(expected, StartupHookRunner.ModeFor(env, typeof(global::StartupHook).Assembly));
    }
}

[Collection(AgentCollection.Name)]
public sealed class StartupHookInProcessTests
{
    [Fact]
    public void Hook_does_nothing_when_an_agent_already_runs()
    {
        using var embedded = LoopDoctorAgent.Start(new LoopDoctorOptions());
        StartupHookRunner.Run(typeof(global::StartupHook).Assembly); // what Initialize does after its once-only guard
        Assert.Same(embedded, LoopDoctorAgent.Current);
        Assert.Equal(AgentMode.Embedded, LoopDoctorAgent.Current!.Options.Mode);
    }
}
