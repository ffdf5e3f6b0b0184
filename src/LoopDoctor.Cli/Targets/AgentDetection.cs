using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace LoopDoctor.Cli.Targets;

/// <summary>Whether the LoopDoctor agent is in a process, and where the one we can inject lives.</summary>
internal static class AgentDetection
{
    public const string AgentAssemblyName = "LoopDoctor.Agent";

    /// <summary>
    /// Linux: the runtime maps every loaded assembly, so <c>/proc/PID/maps</c> naming LoopDoctor.Agent.dll means the agent
    /// is loaded (embedded or injected earlier). Null where this cannot be known cheaply.
    /// </summary>
    public static bool? IsAgentLoaded(int pid)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/maps"))
            {
                if (line.EndsWith("/" + AgentAssemblyName + ".dll", StringComparison.Ordinal))
                {
                    return true;
                }
            }

            return false;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The agent shipped next to loopdoctor.dll, verified to be ours and to carry a startup hook; else null and why.</summary>
    public static string? FindInjectableAgent(out string? problem)
    {
        var path = Path.Combine(AppContext.BaseDirectory, AgentAssemblyName + ".dll");
        problem = Verify(path);
        return problem is null ? path : null;
    }

    /// <summary>
    /// Null when <paramref name="path"/> is our agent with a startup hook (a public static <c>StartupHook.Initialize()</c>
    /// in no namespace); otherwise the reason. Checked before ApplyStartupHook: a bad path crashed the target.
    /// </summary>
    internal static string? Verify(string path)
    {
        if (!File.Exists(path))
        {
            return $"{path} does not exist";
        }

        try
        {
            if (AssemblyName.GetAssemblyName(path).Name != AgentAssemblyName)
            {
                return $"{path} is not {AgentAssemblyName}";
            }

            using var stream = File.OpenRead(path);
            using var pe = new PEReader(stream);
            var metadata = pe.GetMetadataReader();
            foreach (var handle in metadata.TypeDefinitions)
            {
                var type = metadata.GetTypeDefinition(handle);
                if (metadata.GetString(type.Name) == "StartupHook" && type.Namespace.IsNil)
                {
                    foreach (var methodHandle in type.GetMethods())
                    {
                        if (metadata.GetString(metadata.GetMethodDefinition(methodHandle).Name) == "Initialize")
                        {
                            return null;
                        }
                    }
                }
            }

            return $"{path} has no StartupHook.Initialize()";
        }
        catch (Exception ex) when (ex is BadImageFormatException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            return $"{path} cannot be read: {ex.Message}";
        }
    }
}
