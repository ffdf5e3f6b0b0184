using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Projections;

/// <summary>
/// State kept from the signal stream (every signal, in timestamp order, from a live session or a trace file alike),
/// with no judgement in it: rules read projections to build findings, as often as asked, without consuming them.
/// </summary>
internal interface IProjection
{
    void Observe(Signal signal);
}
