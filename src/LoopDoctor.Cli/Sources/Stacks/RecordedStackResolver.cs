using LoopDoctor.Cli.Signals;
using Microsoft.Diagnostics.Tracing;

namespace LoopDoctor.Cli.Sources.Stacks;

/// <summary>
/// Stacks of a recorded trace read in one pass: the event record's return addresses, interned in
/// <paramref name="stacks"/>; the <see cref="CallStack"/> handed out stays unresolved until
/// <see cref="StackInterner.ResolveAll"/> names it (the rundown that names the methods is at the end of the file).
/// </summary>
internal sealed class RecordedStackResolver(StackInterner stacks) : IStackResolver
{
    public CallStack StackOf(TraceEvent e) => stacks[stacks.Intern(TraceEventInternals.StackAddressesOf(e))];
}
