using LoopDoctor.Cli.Signals;
using Microsoft.Diagnostics.Tracing;

namespace LoopDoctor.Cli.Sources.Stacks;

/// <summary>
/// An event's call stack, for the decoders: live, TraceLog names it as the event arrives
/// (<see cref="TraceLogStackResolver"/>); from a .nettrace file, its addresses are kept and named after the rundown at
/// the end of the file (<see cref="RecordedStackResolver"/>). Call only inside the event's callback.
/// </summary>
internal interface IStackResolver
{
    CallStack StackOf(TraceEvent e);
}
