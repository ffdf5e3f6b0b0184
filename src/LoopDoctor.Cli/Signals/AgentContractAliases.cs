// The runtime's thread-pool adjustment reasons are defined once, in the agent, which labels its injection counter with them.
global using AdjustmentReason = LoopDoctor.Agent.RuntimeSignals.ThreadPoolAdjustmentReason;
