using System;
using System.IO;
using System.Reflection;

namespace LoopDoctor.StartupHook;

/// <summary>
/// Checks that this runtime can run the agent, then loads <c>LoopDoctor.Agent.dll</c> from this assembly's folder and
/// hands over to its hook entry by reflection: nothing here references the agent, so no type load can fail before
/// the check.
/// </summary>
internal static class AgentLoader
{
    /// <summary>The major .NET version the agent is built for (a test compares it with the agent's target framework).</summary>
    internal const int AgentRuntimeMajor = 8;

    internal const string AgentAssemblyName = "LoopDoctor.Agent";

    /// <summary>The agent's hook entry: <c>static void Initialize(Assembly hookAssembly)</c> (a test pins the shape).</summary>
    internal const string EntryTypeName = "LoopDoctor.Agent.Hosting.StartupHookRunner";

    internal const string EntryMethodName = "Initialize";

    /// <summary>The agent's stderr prefix (a test pins it to the agent's own).</summary>
    internal const string ReportPrefix = "loopdoctor-agent: ";

    internal static void Load(Assembly hookAssembly)
    {
        var refusal = RuntimeRefusal(Environment.Version);
        if (refusal is not null)
        {
            Report("not started: " + refusal);
            return;
        }

        var agent = LoadedAgent() ?? LoadAgentBeside(hookAssembly);
        if (agent is null)
        {
            return;
        }

        var entry = agent.GetType(EntryTypeName, throwOnError: false)?.GetMethod(
            EntryMethodName, BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic, null, new[] { typeof(Assembly) }, null);
        if (entry is null)
        {
            Report($"not started: {agent.GetName().Name} {agent.GetName().Version} has no startup hook entry (an older agent embedded in the app?).");
            return;
        }

        try
        {
            entry.Invoke(null, new object[] { hookAssembly });
        }
        catch (TargetInvocationException error) when (error.InnerException is not null)
        {
            ReportFailure(error.InnerException);
        }
    }

    /// <summary>Null when <paramref name="runtime"/> can run the agent; otherwise why not, in one sentence.</summary>
    internal static string? RuntimeRefusal(Version runtime)
        => runtime.Major >= AgentRuntimeMajor
            ? null
            : $"this process runs .NET {runtime.Major}.{runtime.Minor}.{Math.Max(runtime.Build, 0)}; the LoopDoctor agent needs .NET {AgentRuntimeMajor} or later.";

    /// <summary>An agent the app already carries (embedded): loading a second copy by path would fail.</summary>
    private static Assembly? LoadedAgent()
    {
        foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies())
        {
            if (string.Equals(assembly.GetName().Name, AgentAssemblyName, StringComparison.Ordinal))
            {
                return assembly;
            }
        }

        return null;
    }

    private static Assembly? LoadAgentBeside(Assembly hookAssembly)
    {
        var directory = Path.GetDirectoryName(hookAssembly.Location);
        var path = string.IsNullOrEmpty(directory) ? null : Path.Combine(directory, AgentAssemblyName + ".dll");
        if (path is null || !File.Exists(path))
        {
            Report($"not started: {AgentAssemblyName}.dll is not beside {hookAssembly.GetName().Name}.dll ({directory}).");
            return null;
        }

        return Assembly.LoadFrom(path);
    }

    internal static void ReportFailure(Exception error)
    {
        try
        {
            Report($"not started: {error.GetType().Name}: {error.Message}");
        }
        catch (Exception)
        {
            // stderr may be closed; nothing else is safe to do inside a startup hook
        }
    }

    /// <summary>One line on stderr, never a stack trace.</summary>
    private static void Report(string text)
        => Console.Error.WriteLine(ReportPrefix + text.Replace("\r\n", " ").Replace('\n', ' ').Replace('\r', ' '));
}
