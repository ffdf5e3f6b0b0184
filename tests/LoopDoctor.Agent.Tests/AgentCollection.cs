namespace LoopDoctor.Agent.Tests;

/// <summary>
/// Tests that start the process-wide agent, stall the thread pool or change its limits run one at a time:
/// they share global state with each other.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AgentCollection
{
    public const string Name = "Process-wide agent and thread pool";
}
