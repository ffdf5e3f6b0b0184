using System.Reflection;
using System.Runtime.Versioning;
using LoopDoctor.Agent.Hosting;
using LoopDoctor.StartupHook;

namespace LoopDoctor.Agent.Tests.StartupHook;

/// <summary>
/// LoopDoctor.StartupHook.dll, the hook the runtime loads, reaches the agent by name only (it must load where the agent
/// cannot): these pin each name and number it relies on to the agent itself, so a rename fails here, not in a target.
/// </summary>
public sealed class StartupHookLoaderContractTests
{
    [Fact]
    public void The_runtime_the_hook_requires_is_the_one_the_agent_is_built_for()
    {
        var framework = new FrameworkName(typeof(LoopDoctorAgent).Assembly.GetCustomAttribute<TargetFrameworkAttribute>()!.FrameworkName);
        Assert.Equal(AgentLoader.AgentRuntimeMajor, framework.Version.Major);
    }

    [Fact]
    public void The_hook_calls_an_entry_the_agent_has()
    {
        Assert.Equal(AgentLoader.AgentAssemblyName, typeof(LoopDoctorAgent).Assembly.GetName().Name);
        var entry = typeof(LoopDoctorAgent).Assembly.GetType(AgentLoader.EntryTypeName)?
            .GetMethod(AgentLoader.EntryMethodName, BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public, [typeof(Assembly)]);
        Assert.NotNull(entry);
        Assert.Equal(typeof(void), entry.ReturnType);
    }

    [Fact]
    public void Both_sides_print_with_the_same_prefix() =>
        Assert.Equal(StartupHookRunner.ReportPrefix, AgentLoader.ReportPrefix);

    [Theory]
    [InlineData(7, 0, 20, "this process runs .NET 7.0.20; the LoopDoctor agent needs .NET 8 or later.")]
    [InlineData(6, 0, 36, "this process runs .NET 6.0.36; the LoopDoctor agent needs .NET 8 or later.")]
    [InlineData(4, 0, 30319, "this process runs .NET 4.0.30319; the LoopDoctor agent needs .NET 8 or later.")] // .NET Core 2.x reports 4.0.30319
    public void An_older_runtime_is_refused_with_its_version(int major, int minor, int build, string expected) =>
        Assert.Equal(expected, AgentLoader.RuntimeRefusal(new Version(major, minor, build)));

    [Fact]
    public void The_agents_runtime_and_newer_are_accepted()
    {
        Assert.Null(AgentLoader.RuntimeRefusal(new Version(AgentLoader.AgentRuntimeMajor, 0, 0)));
        Assert.Null(AgentLoader.RuntimeRefusal(new Version(AgentLoader.AgentRuntimeMajor + 1, 0)));
    }
}

/// <summary>Ways the agent can fail to load behind the hook, in a real process: one stderr line, and the app runs on.</summary>
public sealed class StartupHookFailureTests
{
    [Fact]
    public void A_missing_agent_beside_the_hook_is_one_line_and_the_app_runs_on()
    {
        const string missing = "LoopDoctor.Agent.dll", reason = "LoopDoctor.Agent.dll is not beside LoopDoctor.StartupHook.dll";
        var copy = Directory.CreateTempSubdirectory("loopdoctor-hook-");
        try
        {
            foreach (var file in Directory.GetFiles(Path.GetDirectoryName(HookTargetProcess.AgentPath)!))
            {
                if (Path.GetFileName(file) != missing)
                {
                    File.Copy(file, Path.Combine(copy.FullName, Path.GetFileName(file)));
                }
            }

            using var target = HookTargetProcess.Start(withStartupHook: true, new Dictionary<string, string>
            {
                ["DOTNET_STARTUP_HOOKS"] = Path.Combine(copy.FullName, "LoopDoctor.StartupHook.dll"),
                ["LOOPDOCTOR_METRICS_URL"] = "http://127.0.0.1:0/metrics",
            });
            var error = target.WaitForStderr(l => l.StartsWith(AgentLoader.ReportPrefix, StringComparison.Ordinal), "the hook's error line");
            Assert.Contains(reason, error);
            Assert.EndsWith("agent=none metrics=none", target.Status());
            Assert.Equal(0, target.Exit());
            Assert.Single(target.Stderr);
        }
        finally
        {
            copy.Delete(recursive: true);
        }
    }
}
