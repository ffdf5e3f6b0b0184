using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace LoopDoctor.Cli.Targets;

/// <summary>
/// Whether a target's runtime can load the startup hook's assembly at all. The runtime loads the hook and resolves its
/// <c>StartupHook</c> type before any of our code runs, and .NET 9+ terminates the process when that fails: in a trimmed
/// app (PublishTrimmed with StartupHookSupport) the framework facades lose the type forwards the hook needs. So before
/// injecting, every type the hook references must resolve among the assemblies beside the target's libcoreclr.
/// </summary>
internal static class HookCompatibility
{
    /// <summary>
    /// Null when every type <paramref name="hookPath"/> references resolves in <paramref name="pid"/>'s runtime folder,
    /// or when that folder cannot be found (not Linux: nothing to compare, the version check stands alone); else why not.
    /// </summary>
    public static string? Problem(int pid, string hookPath)
        => RuntimeFolder(pid) is { } folder ? UnresolvedReference(hookPath, folder) : null;

    /// <summary>The folder of the libcoreclr.so that <paramref name="pid"/> mapped: the shared framework, or a self-contained app's own folder.</summary>
    internal static string? RuntimeFolder(int pid)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/maps"))
            {
                var slash = line.IndexOf('/', StringComparison.Ordinal);
                if (slash >= 0 && line.EndsWith("/libcoreclr.so", StringComparison.Ordinal))
                {
                    return Path.GetDirectoryName(line[slash..]);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return null;
    }

    /// <summary>The first type that <paramref name="assemblyPath"/> references and <paramref name="folder"/> cannot provide, as a sentence; null when all resolve.</summary>
    internal static string? UnresolvedReference(string assemblyPath, string folder)
    {
        var opened = new Dictionary<string, PEReader?>(StringComparer.OrdinalIgnoreCase);
        try
        {
            using var hook = new PEReader(File.OpenRead(assemblyPath));
            var metadata = hook.GetMetadataReader();
            foreach (var handle in metadata.TypeReferences)
            {
                var type = metadata.GetTypeReference(handle);
                if (type.ResolutionScope.Kind != HandleKind.AssemblyReference)
                {
                    continue; // nested in another reference, or our own
                }

                var assembly = metadata.GetString(metadata.GetAssemblyReference((AssemblyReferenceHandle)type.ResolutionScope).Name);
                var fullName = Join(metadata.GetString(type.Namespace), metadata.GetString(type.Name));
                if (!Provides(folder, assembly, fullName, opened, depth: 0))
                {
                    return $"{fullName} cannot be loaded from {Path.Combine(folder, assembly + ".dll")} (a trimmed app?)";
                }
            }

            return null;
        }
        catch (Exception ex) when (ex is BadImageFormatException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            return $"{assemblyPath} cannot be read: {ex.Message}";
        }
        finally
        {
            foreach (var reader in opened.Values)
            {
                reader?.Dispose();
            }
        }
    }

    /// <summary>Whether <paramref name="assembly"/> in <paramref name="folder"/> defines <paramref name="fullName"/> or forwards it to one that does.</summary>
    private static bool Provides(string folder, string assembly, string fullName, Dictionary<string, PEReader?> opened, int depth)
    {
        if (!opened.TryGetValue(assembly, out var pe))
        {
            var path = Path.Combine(folder, assembly + ".dll");
            opened[assembly] = pe = File.Exists(path) ? new PEReader(File.OpenRead(path)) : null;
        }

        if (pe is null || depth > 4)
        {
            return false;
        }

        var metadata = pe.GetMetadataReader();
        foreach (var handle in metadata.TypeDefinitions)
        {
            var type = metadata.GetTypeDefinition(handle);
            if (Join(metadata.GetString(type.Namespace), metadata.GetString(type.Name)) == fullName)
            {
                return true;
            }
        }

        foreach (var handle in metadata.ExportedTypes)
        {
            var exported = metadata.GetExportedType(handle);
            if (exported.IsForwarder && exported.Implementation.Kind == HandleKind.AssemblyReference &&
                Join(metadata.GetString(exported.Namespace), metadata.GetString(exported.Name)) == fullName)
            {
                var target = metadata.GetString(metadata.GetAssemblyReference((AssemblyReferenceHandle)exported.Implementation).Name);
                return Provides(folder, target, fullName, opened, depth + 1);
            }
        }

        return false;
    }

    private static string Join(string ns, string name) => ns.Length == 0 ? name : ns + "." + name;
}
