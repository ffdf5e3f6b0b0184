namespace LoopDoctor.Agent;

/// <summary>
/// A component's hold on the process-wide agent: starts it, or adopts the one already running (a startup hook's,
/// or another integration's) and then leaves it running on dispose, since this holder did not start it.
/// </summary>
internal sealed class AgentHold : IDisposable
{
    private AgentHold(LoopDoctorAgent agent, bool owned)
    {
        Agent = agent;
        Owned = owned;
    }

    public LoopDoctorAgent Agent { get; }

    public bool Owned { get; }

    public static AgentHold StartOrAdopt(LoopDoctorOptions options)
    {
        if (LoopDoctorAgent.Current is { } running)
        {
            return new AgentHold(running, owned: false);
        }

        try
        {
            return new AgentHold(LoopDoctorAgent.Start(options), owned: true);
        }
        catch (InvalidOperationException) when (LoopDoctorAgent.Current is { } raced)
        {
            // Another integration started it between the check and the start.
            return new AgentHold(raced, owned: false);
        }
    }

    public void Dispose()
    {
        if (Owned)
        {
            Agent.Dispose();
        }
    }
}
