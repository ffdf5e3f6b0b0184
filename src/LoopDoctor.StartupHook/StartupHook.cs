using System;
using LoopDoctor.StartupHook;

/// <summary>
/// The .NET startup hook that loads the LoopDoctor agent: <c>DOTNET_STARTUP_HOOKS=/path/to/LoopDoctor.StartupHook.dll</c>
/// at launch, or <c>DiagnosticsClient.ApplyStartupHook</c> (what <c>loopdoctor</c> does) on a running process.
/// The runtime requires this exact shape: a class named <c>StartupHook</c> in no namespace with
/// <c>public static void Initialize()</c>. Built for netstandard2.0 so that it loads on any runtime: an exception
/// escaping a startup hook, or thrown while the runtime loads the hook's assembly, terminates the host.
/// </summary>
internal static class StartupHook
{
    public static void Initialize()
    {
        try
        {
            AgentLoader.Load(typeof(StartupHook).Assembly);
        }
        catch (Exception error)
        {
            AgentLoader.ReportFailure(error);
        }
    }
}
