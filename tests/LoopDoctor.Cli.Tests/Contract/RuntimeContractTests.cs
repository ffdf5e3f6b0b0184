using LoopDoctor.Agent.RuntimeSignals;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace LoopDoctor.Cli.Tests.Contract;

/// <summary>The runtime's numbering the agent and the CLI share, checked against TraceEvent's own copy of the runtime manifest.</summary>
public sealed class RuntimeContractTests
{
    [Fact]
    public void Thread_adjustment_reasons_are_numbered_as_the_runtime_numbers_them()
    {
        Assert.All(Enum.GetValues<ThreadPoolAdjustmentReason>(), reason =>
            Assert.Equal((int)Enum.Parse<ThreadAdjustmentReason>(reason.ToString()), (int)reason));
        Assert.Equal(Enum.GetValues<ThreadAdjustmentReason>().Length, Enum.GetValues<ThreadPoolAdjustmentReason>().Length);
    }
}
