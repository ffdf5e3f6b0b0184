using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Sources;
using LoopDoctor.Cli.Targets;
using Microsoft.Diagnostics.NETCore.Client;

namespace LoopDoctor.Cli.Tests;

/// <summary>What loopdoctor does when injection cannot or must not happen (issue 7): one line, no agent, no crash.</summary>
public class InjectionSafetyTests
{
    private const string AgentPath = "/opt/loopdoctor/LoopDoctor.Agent.dll";

    private static (AgentPresence Result, string Log) Inject(Action<string> apply, string? path = AgentPath, string? problem = null)
    {
        var log = new StringWriter();
        var result = AgentInjection.TryApply(apply, 1234, path, problem, log);
        return (result, log.ToString());
    }

    [Fact]
    public void A_runtime_without_ApplyStartupHook_gets_one_line_and_no_agent()
    {
        var (result, log) = Inject(_ => throw new UnsupportedCommandException("Unsupported command"));
        Assert.Equal(AgentPresence.None, result);
        Assert.Contains("cannot load a startup hook", log);
        Assert.Single(log.TrimEnd().Split('\n'));
    }

    [Fact]
    public void A_server_error_gets_one_line_and_no_agent()
    {
        var (result, log) = Inject(_ => throw new ServerErrorException("Apply startup hook failed (HRESULT: 0x80131522)\nsecond line"));
        Assert.Equal(AgentPresence.None, result);
        Assert.Contains("could not inject the agent into 1234 (Apply startup hook failed (HRESULT: 0x80131522) second line)", log);
        Assert.Single(log.TrimEnd().Split('\n'));
    }

    [Fact]
    public void A_path_that_failed_verification_is_never_applied()
    {
        var applied = false;
        var (result, log) = Inject(_ => applied = true, path: null, problem: "/x/LoopDoctor.Agent.dll is not LoopDoctor.Agent");
        Assert.False(applied);
        Assert.Equal(AgentPresence.None, result);
        Assert.Contains("not injecting the agent: /x/LoopDoctor.Agent.dll is not LoopDoctor.Agent.", log);
    }

    [Fact]
    public void The_verified_path_is_the_one_applied()
    {
        string? applied = null;
        var (result, _) = Inject(p => applied = p);
        Assert.Equal(AgentPresence.Injected, result);
        Assert.Equal(AgentPath, applied);
    }

    [Fact]
    public void A_tampered_hook_or_agent_file_is_refused()
    {
        var dir = Directory.CreateTempSubdirectory("loopdoctor-tamper-");
        try
        {
            var realHook = Path.Combine(AppContext.BaseDirectory, "LoopDoctor.StartupHook.dll");
            var realAgent = Path.Combine(AppContext.BaseDirectory, "LoopDoctor.Agent.dll");

            // Another assembly renamed to the hook's file name: the identity check catches it.
            var renamed = Path.Combine(dir.FullName, "renamed", "LoopDoctor.StartupHook.dll");
            Directory.CreateDirectory(Path.GetDirectoryName(renamed)!);
            File.Copy(typeof(InjectionSafetyTests).Assembly.Location, renamed);
            Assert.Contains("is not LoopDoctor.StartupHook", AgentDetection.Verify(renamed));

            // The real hook with another assembly renamed to the agent beside it.
            var foreignAgent = Path.Combine(dir.FullName, "foreign");
            Directory.CreateDirectory(foreignAgent);
            File.Copy(realHook, Path.Combine(foreignAgent, "LoopDoctor.StartupHook.dll"));
            File.Copy(typeof(InjectionSafetyTests).Assembly.Location, Path.Combine(foreignAgent, "LoopDoctor.Agent.dll"));
            Assert.Contains("is not LoopDoctor.Agent", AgentDetection.Verify(Path.Combine(foreignAgent, "LoopDoctor.StartupHook.dll")));

            // The real hook beside the real agent with bytes overwritten (truncated): not a readable assembly.
            var truncated = Path.Combine(dir.FullName, "truncated");
            Directory.CreateDirectory(truncated);
            File.Copy(realHook, Path.Combine(truncated, "LoopDoctor.StartupHook.dll"));
            File.WriteAllBytes(Path.Combine(truncated, "LoopDoctor.Agent.dll"), File.ReadAllBytes(realAgent)[..512]);
            Assert.NotNull(AgentDetection.Verify(Path.Combine(truncated, "LoopDoctor.StartupHook.dll")));

            // The hook alone, without the agent beside it.
            var alone = Path.Combine(dir.FullName, "alone");
            Directory.CreateDirectory(alone);
            File.Copy(realHook, Path.Combine(alone, "LoopDoctor.StartupHook.dll"));
            Assert.Contains("LoopDoctor.Agent.dll does not exist", AgentDetection.Verify(Path.Combine(alone, "LoopDoctor.StartupHook.dll")));

            // The untouched pair passes, and is what loopdoctor injects.
            Assert.Null(AgentDetection.Verify(realHook));
            Assert.Equal(realHook, AgentDetection.FindStartupHook(out var problem));
            Assert.Null(problem);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}

/// <summary>Issue 19: the agent is injected only into a runtime known to run it.</summary>
public class InjectionRuntimeCheckTests
{
    private static readonly Version AgentRuntime = new(8, 0);

    [Theory]
    [InlineData("7.0.20+3f0d2a1b", ".NET 7.0.20")]
    [InlineData("6.0.36", ".NET 6.0.36")]
    public void An_older_runtime_is_refused_in_one_line_naming_its_version_and_the_cost(string productVersion, string shown)
    {
        var line = AgentInjection.Refusal(1234, new TargetRuntime(productVersion), null, AgentRuntime);
        Assert.Equal($"loopdoctor: process 1234 runs {shown}; the LoopDoctor agent needs .NET 8 or later — continuing without it ({AgentInjection.WithoutAgentCost}).", line);
    }

    [Theory]
    [InlineData("8.0.31")]
    [InlineData("9.0.20+abc")]
    [InlineData("10.0.12+abc")]
    [InlineData("10.0.0-rc.2.25502.107+89c8f6a112d37d2ea8b77821e56d170a1bccdc5a")]
    [InlineData("11.0.0-preview.1")]
    public void The_agents_runtime_or_newer_is_injected(string productVersion) =>
        Assert.Null(AgentInjection.Refusal(1234, new TargetRuntime(productVersion), null, AgentRuntime));

    [Fact]
    public void An_unknown_runtime_is_never_guessed()
    {
        var unread = AgentInjection.Refusal(1234, null, "connection refused", AgentRuntime);
        Assert.StartsWith("loopdoctor: not injecting the agent into 1234: its runtime version could not be read (connection refused)", unread);
        var garbled = AgentInjection.Refusal(1234, new TargetRuntime("banana"), null, AgentRuntime);
        Assert.Contains("'banana' is not a version", garbled);
    }

    [Fact]
    public void The_agent_runtime_is_read_from_the_agent_build_without_loading_it()
    {
        Assert.Equal(new Version(8, 0), AgentDetection.AgentRuntime);
        Assert.Null(AgentDetection.TargetFramework(typeof(InjectionRuntimeCheckTests).Assembly.Location + ".missing"));
    }

    [Fact]
    public void ProcessInfo2_is_parsed_field_by_field()
    {
        static byte[] Str(string s) => s.Length == 0 ? BitConverter.GetBytes(0u) : [.. BitConverter.GetBytes((uint)(s.Length + 1)), .. System.Text.Encoding.Unicode.GetBytes(s + "\0")];
        byte[] payload = [.. new byte[24], .. Str("dotnet app.dll"), .. Str("Linux"), .. Str("x64"), .. Str(""), .. Str("9.0.11+71c47a2")];
        Assert.Equal("9.0.11+71c47a2", TargetRuntime.ParseProductVersion(payload));
        Assert.Throws<InvalidDataException>(() => TargetRuntime.ParseProductVersion(payload.AsSpan(0, 40)));
        var request = TargetRuntime.ProcessInfo2Request();
        Assert.Equal((20, (byte)0x04, (byte)0x04), TargetRuntime.ParseHeader(request));
    }
}

/// <summary>The hook's own references must resolve in the target's runtime folder, or .NET 9+ dies loading it.</summary>
public class HookCompatibilityTests
{
    private static string Hook => Path.Combine(AppContext.BaseDirectory, "LoopDoctor.StartupHook.dll");

    [Fact]
    public void The_shared_framework_provides_every_type_the_hook_references() =>
        Assert.Null(HookCompatibility.UnresolvedReference(Hook, Path.GetDirectoryName(typeof(object).Assembly.Location)!));

    [Fact]
    public void A_folder_without_the_facades_is_refused_naming_the_missing_type()
    {
        var trimmed = Directory.CreateTempSubdirectory("loopdoctor-trimmed-");
        try
        {
            File.Copy(typeof(object).Assembly.Location, Path.Combine(trimmed.FullName, "System.Private.CoreLib.dll"));
            var problem = HookCompatibility.UnresolvedReference(Hook, trimmed.FullName);
            Assert.NotNull(problem);
            Assert.Contains("cannot be loaded from " + Path.Combine(trimmed.FullName, "netstandard.dll"), problem);
        }
        finally
        {
            trimmed.Delete(recursive: true);
        }
    }

    [Fact]
    public void This_process_runtime_folder_is_found_from_its_maps()
    {
        var folder = HookCompatibility.RuntimeFolder(Environment.ProcessId);
        if (OperatingSystem.IsLinux())
        {
            Assert.Equal(Path.GetDirectoryName(typeof(object).Assembly.Location), folder);
        }
        else
        {
            Assert.Null(folder);
        }
    }
}
