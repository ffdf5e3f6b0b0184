using System.Diagnostics;
using LoopDoctor.Cli.Findings;
using Microsoft.Diagnostics.NETCore.Client;

namespace LoopDoctor.Cli.Targets;

/// <summary>
/// Loads the agent into a running process with ApplyStartupHook, only when the process's runtime is known to run it:
/// a runtime that cannot load the agent may terminate inside the hook call (.NET 9 does), so an unknown runtime is not tried.
/// </summary>
internal static class AgentInjection
{
    /// <summary>What a report lacks without the agent, for the one line that says it is missing.</summary>
    public const string WithoutAgentCost = "no queue-delay or timer-lag figures and no unobserved task exceptions in the report";

    /// <summary>Decides from the target's runtime, injects; every outcome other than success is one line on <paramref name="log"/>.</summary>
    public static AgentPresence TryInject(DiagnosticsClient client, int processId, TargetRuntime? runtime, string? runtimeProblem, TextWriter log)
    {
        var refusal = Refusal(processId, runtime, runtimeProblem, AgentDetection.AgentRuntime);
        if (refusal is not null)
        {
            log.WriteLine(refusal);
            return AgentPresence.None;
        }

        var hook = AgentDetection.FindStartupHook(out var problem);
        if (hook is not null && HookCompatibility.Problem(processId, hook) is { } unloadable)
        {
            log.WriteLine($"loopdoctor: not injecting the agent into {processId}: its runtime could not load the startup hook ({unloadable}) — continuing without it ({WithoutAgentCost}).");
            return AgentPresence.None;
        }

        return TryApply(client.ApplyStartupHook, processId, hook, problem, log);
    }

    /// <summary>Null when a process running <paramref name="runtime"/> can run the agent; otherwise the line that says why it is not injected.</summary>
    internal static string? Refusal(int processId, TargetRuntime? runtime, string? runtimeProblem, Version? agentRuntime)
    {
        if (agentRuntime is null)
        {
            return $"loopdoctor: not injecting the agent into {processId}: the runtime that {AgentDetection.AgentAssemblyName}.dll needs cannot be read from it — continuing without it ({WithoutAgentCost}).";
        }

        if (runtime?.Version is not { } version)
        {
            var why = runtime is null ? runtimeProblem ?? "no answer" : $"'{runtime.ProductVersion}' is not a version";
            return $"loopdoctor: not injecting the agent into {processId}: its runtime version could not be read ({why}) — continuing without it ({WithoutAgentCost}).";
        }

        return version.Major >= agentRuntime.Major
            ? null
            : $"loopdoctor: process {processId} runs {runtime}; the LoopDoctor agent needs .NET {agentRuntime.Major} or later — continuing without it ({WithoutAgentCost}).";
    }

    /// <summary>
    /// Applies the verified hook (<paramref name="path"/> null: not injectable, <paramref name="problem"/> says why). Any
    /// refusal by the target (a runtime without ApplyStartupHook answers UnsupportedCommand; an old or failing one a
    /// server error) is one line on <paramref name="log"/>, and the session continues without the agent.
    /// </summary>
    internal static AgentPresence TryApply(Action<string> applyStartupHook, int processId, string? path, string? problem, TextWriter log)
    {
        if (path is null)
        {
            log.WriteLine($"loopdoctor: not injecting the agent: {problem}.");
            return AgentPresence.None;
        }

        try
        {
            var stopwatch = Stopwatch.StartNew();
            applyStartupHook(path);
            log.WriteLine($"loopdoctor: injected the LoopDoctor agent into {processId} in {stopwatch.ElapsedMilliseconds} ms (--no-inject to skip).");
            return AgentPresence.Injected;
        }
        catch (UnsupportedCommandException)
        {
            log.WriteLine($"loopdoctor: process {processId}'s runtime cannot load a startup hook at run time (ApplyStartupHook needs .NET 8 or later); continuing without the agent.");
            return AgentPresence.None;
        }
        catch (Exception ex) when (ex is ServerErrorException or ServerNotAvailableException or IOException or TimeoutException)
        {
            log.WriteLine($"loopdoctor: could not inject the agent into {processId} ({ex.Message.ReplaceLineEndings(" ").Trim()}); continuing without it.");
            return AgentPresence.None;
        }
    }
}
