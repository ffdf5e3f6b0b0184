namespace LoopDoctor.EndToEnd.Tests;

/// <summary>
/// The end-to-end tests run one at a time: they start several real processes each and compare thread-pool queue
/// delays, which a CPU busy with another test's processes would inflate.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EndToEndCollection
{
    public const string Name = "EndToEnd";
}
