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

    public const string StartupHookAssemblyName = "LoopDoctor.StartupHook";

    /// <summary>
    /// The startup hook shipped next to loopdoctor.dll (with the agent beside it), verified to be ours; else null and why.
    /// The hook, not the agent, is what the runtime loads: it is built to load on any runtime and refuses politely.
    /// </summary>
    public static string? FindStartupHook(out string? problem)
    {
        var path = Path.Combine(AppContext.BaseDirectory, StartupHookAssemblyName + ".dll");
        problem = Verify(path);
        return problem is null ? path : null;
    }

    /// <summary>
    /// The oldest runtime the agent beside loopdoctor runs on: the major version of the framework it is built for, read
    /// from its metadata (loading it would put a second agent copy in the CLI). Null when the file cannot tell.
    /// </summary>
    public static Version? AgentRuntime => LazyAgentRuntime.Value;

    private static readonly Lazy<Version?> LazyAgentRuntime = new(() => TargetFramework(Path.Combine(AppContext.BaseDirectory, AgentAssemblyName + ".dll")));

    /// <summary>The version of an assembly's <c>[TargetFramework(".NETCoreApp,Version=v10.0")]</c>, or null.</summary>
    internal static Version? TargetFramework(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            using var pe = new PEReader(stream);
            var metadata = pe.GetMetadataReader();
            foreach (var handle in metadata.GetAssemblyDefinition().GetCustomAttributes())
            {
                var attribute = metadata.GetCustomAttribute(handle);
                if (attribute.Constructor.Kind != HandleKind.MemberReference)
                {
                    continue;
                }

                var parent = metadata.GetMemberReference((MemberReferenceHandle)attribute.Constructor).Parent;
                if (parent.Kind != HandleKind.TypeReference || metadata.GetString(metadata.GetTypeReference((TypeReferenceHandle)parent).Name) != "TargetFrameworkAttribute")
                {
                    continue;
                }

                var blob = metadata.GetBlobReader(attribute.Value);
                blob.ReadUInt16(); // prolog
                var name = blob.ReadSerializedString();
                return name is null ? null : new System.Runtime.Versioning.FrameworkName(name).Version;
            }

            return null;
        }
        catch (Exception ex) when (ex is BadImageFormatException or IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>
    /// Null when <paramref name="hookPath"/> is our startup hook (a <c>StartupHook.Initialize()</c> in no namespace) with
    /// our agent beside it; otherwise the reason. Checked before ApplyStartupHook: a bad path crashed the target.
    /// </summary>
    internal static string? Verify(string hookPath)
    {
        var problem = VerifyAssembly(hookPath, StartupHookAssemblyName, requiredType: ("StartupHook", null));
        if (problem is not null)
        {
            return problem;
        }

        var agentPath = Path.Combine(Path.GetDirectoryName(hookPath) ?? ".", AgentAssemblyName + ".dll");
        return VerifyAssembly(agentPath, AgentAssemblyName, requiredType: ("StartupHookRunner", "LoopDoctor.Agent.Hosting"));
    }

    private static string? VerifyAssembly(string path, string expectedName, (string Name, string? Namespace) requiredType)
    {
        if (!File.Exists(path))
        {
            return $"{path} does not exist";
        }

        try
        {
            if (AssemblyName.GetAssemblyName(path).Name != expectedName)
            {
                return $"{path} is not {expectedName}";
            }

            using var stream = File.OpenRead(path);
            using var pe = new PEReader(stream);
            var metadata = pe.GetMetadataReader();
            foreach (var handle in metadata.TypeDefinitions)
            {
                var type = metadata.GetTypeDefinition(handle);
                var ns = type.Namespace.IsNil ? null : metadata.GetString(type.Namespace);
                if (metadata.GetString(type.Name) == requiredType.Name && ns == requiredType.Namespace)
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

            return $"{path} has no {requiredType.Name}.Initialize()";
        }
        catch (Exception ex) when (ex is BadImageFormatException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            return $"{path} cannot be read: {ex.Message}";
        }
    }
}
