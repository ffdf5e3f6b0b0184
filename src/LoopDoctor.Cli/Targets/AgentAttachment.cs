using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Signals;
using Microsoft.Diagnostics.NETCore.Client;

namespace LoopDoctor.Cli.Targets;

/// <summary>Completes when the agent announces itself (LoopDoctor-Agent/AgentStarted) in a session's signals.</summary>
internal sealed class AgentAnnouncement
{
    private readonly TaskCompletionSource<AgentStarted> _announced = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Sees each signal on the session's reader thread.</summary>
    public void Observe(Signal signal)
    {
        if (signal is AgentStarted started)
        {
            _announced.TrySetResult(started);
        }
    }

    /// <summary>The first announcement, or null when none came within <paramref name="timeout"/>.</summary>
    public async Task<AgentStarted?> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        try
        {
            return await _announced.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return null;
        }
    }
}

/// <summary>Finding the agent in a target, or loading it there: what the session may rely on, decided once.</summary>
internal static class AgentAttachment
{
    /// <summary>How long a running agent may take to announce itself once the session enables its EventSource.</summary>
    private static readonly TimeSpan AnnouncementTimeout = TimeSpan.FromSeconds(2);

    /// <summary>How long an agent just injected may take to start and announce itself.</summary>
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// An agent already running is used as it is (the hook is idempotent, so a wrong guess never makes a second one);
    /// otherwise, when asked, the agent is injected where that is safe and counts only once it has announced itself.
    /// </summary>
    public static async Task<AgentPresence> EnsureAsync(TargetProcess target, AgentAnnouncement announcement, bool inject,
        TargetRuntime? runtime, string? runtimeProblem, TextWriter log, CancellationToken cancellationToken = default)
    {
        // Linux tells from /proc/PID/maps whether LoopDoctor.Agent.dll is loaded at all; loaded is not running (an app may
        // reference the agent without starting it), so then we wait briefly for the running agent's AgentStarted.
        var loaded = AgentDetection.IsAgentLoaded(target.ProcessId);
        if (loaded is true or null && await announcement.WaitAsync(AnnouncementTimeout, cancellationToken).ConfigureAwait(false) is { } running)
        {
            return running.Mode == "Injected" ? AgentPresence.Injected : AgentPresence.Embedded;
        }

        if (!inject)
        {
            return AgentPresence.None;
        }

        var presence = AgentInjection.TryInject(new DiagnosticsClient(target.ProcessId), target.ProcessId, runtime, runtimeProblem, log);
        if (presence == AgentPresence.Injected && await announcement.WaitAsync(StartTimeout, cancellationToken).ConfigureAwait(false) is null)
        {
            // The hook ran but refused or failed (it says why on the target's stderr): the report must not claim an agent.
            log.WriteLine($"loopdoctor: the agent did not start in {target.ProcessId} within {StartTimeout.TotalSeconds:0} s (its reason, if any, is on the " +
                          $"target's stderr after 'loopdoctor-agent:') — continuing without it ({AgentInjection.WithoutAgentCost}).");
            return AgentPresence.None;
        }

        return presence;
    }

    /// <summary>
    /// What the report says of the agent, from what loopdoctor did (<paramref name="loadedByUs"/>: found, injected, or put
    /// in the launched program's startup hooks) and what the session saw: an agent that an earlier loopdoctor injected
    /// says so itself; one loaded by us counts once it showed up (a hook on a too-old runtime refuses); any other is the app's.
    /// </summary>
    public static AgentPresence Resolve(AgentPresence loadedByUs, AgentStarted? announced, bool agentMetricsSeen)
    {
        if (announced is { Mode: "Injected" })
        {
            return AgentPresence.Injected;
        }

        if (loadedByUs != AgentPresence.None && (announced is not null || agentMetricsSeen))
        {
            return loadedByUs;
        }

        return announced is not null ? AgentPresence.Embedded : AgentPresence.None;
    }
}
