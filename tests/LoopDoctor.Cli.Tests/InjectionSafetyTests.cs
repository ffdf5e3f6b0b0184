using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Sessions;
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
        var result = LiveSession.TryInject(apply, 1234, path, problem, log);
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
    public void A_tampered_agent_file_is_refused()
    {
        var dir = Directory.CreateTempSubdirectory("loopdoctor-tamper-");
        try
        {
            // Another assembly renamed to the agent's file name: the identity check catches it.
            var renamed = Path.Combine(dir.FullName, "renamed", "LoopDoctor.Agent.dll");
            Directory.CreateDirectory(Path.GetDirectoryName(renamed)!);
            File.Copy(typeof(InjectionSafetyTests).Assembly.Location, renamed);
            Assert.Contains("is not LoopDoctor.Agent", AgentDetection.Verify(renamed));

            // The real agent with bytes overwritten (truncated): not a readable assembly.
            var real = Path.Combine(AppContext.BaseDirectory, "LoopDoctor.Agent.dll");
            var truncated = Path.Combine(dir.FullName, "LoopDoctor.Agent.dll");
            File.WriteAllBytes(truncated, File.ReadAllBytes(real)[..512]);
            Assert.NotNull(AgentDetection.Verify(truncated));

            // The untouched agent passes.
            Assert.Null(AgentDetection.Verify(real));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
