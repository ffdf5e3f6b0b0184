using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace LoopDoctor.Cli.Baselines;

/// <summary>A method's place in the source: its file and the line its body starts on (the first sequence point).</summary>
internal sealed record SourceLocation(string Path, int Line);

/// <summary>
/// Call-site keys (<see cref="CallSiteKey"/>) mapped to source through the portable PDBs beside an app's assemblies.
/// loopdoctor's frames carry no IL offset, so a call site maps to the start of its method, not to the calling line; async
/// state machines and lambdas map to the method they were written in, as the keys do.
/// </summary>
internal sealed class SourceLocations(IReadOnlyDictionary<string, SourceLocation> byKey)
{
    public static SourceLocations None { get; } = new(new Dictionary<string, SourceLocation>());

    public int Count => byKey.Count;

    public SourceLocation? Find(string key) => byKey.GetValueOrDefault(key);

    /// <summary>Every assembly in <paramref name="directory"/> with a portable PDB of the same name beside it; unreadable files are skipped.</summary>
    public static SourceLocations FromDirectory(string directory)
    {
        var found = new Dictionary<string, SourceLocation>(StringComparer.Ordinal);
        if (!Directory.Exists(directory))
        {
            return None;
        }

        foreach (var assembly in Directory.EnumerateFiles(directory, "*.dll"))
        {
            var pdb = Path.ChangeExtension(assembly, ".pdb");
            if (!File.Exists(pdb))
            {
                continue;
            }

            try
            {
                Read(assembly, pdb, found);
            }
            catch (Exception ex) when (ex is BadImageFormatException or IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                // A native or Windows-PDB assembly: nothing to map from it.
            }
        }

        return new SourceLocations(found);
    }

    private static void Read(string assemblyPath, string pdbPath, Dictionary<string, SourceLocation> found)
    {
        using var pe = new PEReader(File.OpenRead(assemblyPath));
        if (!pe.HasMetadata)
        {
            return;
        }

        var metadata = pe.GetMetadataReader();
        using var pdbProvider = MetadataReaderProvider.FromPortablePdbStream(File.OpenRead(pdbPath));
        var pdb = pdbProvider.GetMetadataReader();
        foreach (var handle in metadata.MethodDefinitions)
        {
            var method = metadata.GetMethodDefinition(handle);
            var debug = pdb.GetMethodDebugInformation(handle.ToDebugInformationHandle());
            if (debug.SequencePointsBlob.IsNil)
            {
                continue;
            }

            var first = debug.GetSequencePoints().FirstOrDefault(p => !p.IsHidden);
            if (first.Document.IsNil)
            {
                continue;
            }

            var key = CallSiteKey.Normalize(TypeName(metadata, method.GetDeclaringType()) + "." + metadata.GetString(method.Name));
            var location = new SourceLocation(pdb.GetString(pdb.GetDocument(first.Document).Name), first.StartLine);
            // Lambdas and local functions share their method's key and start inside it: the earliest line is the method's.
            if (!found.TryGetValue(key, out var known) || (known.Path == location.Path && location.Line < known.Line))
            {
                found[key] = location;
            }
        }
    }

    private static string TypeName(MetadataReader metadata, TypeDefinitionHandle handle)
    {
        var type = metadata.GetTypeDefinition(handle);
        var name = metadata.GetString(type.Name);
        var declaring = type.GetDeclaringType();
        if (!declaring.IsNil)
        {
            return TypeName(metadata, declaring) + "+" + name;
        }

        var ns = metadata.GetString(type.Namespace);
        return ns.Length == 0 ? name : ns + "." + name;
    }

    /// <summary>
    /// The directory of the app a command runs: the first argument that is an existing .dll or executable file
    /// (<c>dotnet out/MyApp.dll</c>, <c>./out/MyApp</c>); null when none is (<c>dotnet run</c> builds elsewhere).
    /// </summary>
    public static string? AppDirectory(IEnumerable<string> commandLine)
    {
        foreach (var argument in commandLine)
        {
            if (!File.Exists(argument))
            {
                continue;
            }

            var directory = Path.GetDirectoryName(Path.GetFullPath(argument))!;
            // An apphost (./out/MyApp) has its app's PDBs beside it; the dotnet host has none.
            if (argument.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) || Directory.EnumerateFiles(directory, "*.pdb").Any())
            {
                return directory;
            }
        }

        return null;
    }
}
