#if !NET9_0_OR_GREATER
namespace LoopDoctor.Agent;

/// <summary>
/// .NET 8 has no <c>System.Threading.Lock</c>: there, <c>lock (x)</c> on this plain object is a Monitor lock, the same
/// mutual exclusion the agent relies on (the agent is built for net8.0 so that one build runs on .NET 8, 9 and 10).
/// </summary>
internal sealed class Lock
{
}
#endif
