using System.Reflection;
using System.Runtime.Versioning;

namespace LoopDoctor.Testing;

/// <summary>
/// Finds the repository and built artifacts from wherever the test assembly runs. The root is the nearest directory
/// above <see cref="AppContext.BaseDirectory"/> that holds <c>LoopDoctor.sln</c> (or <c>LOOPDOCTOR_REPO_ROOT</c>);
/// the configuration and target framework are those this assembly was built with, so a Release test run finds the
/// Release build of the sample (<c>samples/BlockingApp/bin/Release/net10.0/BlockingApp.dll</c>).
/// </summary>
public static class RepoPaths
{
    public const string SolutionFileName = "LoopDoctor.sln";
    public const string RootOverrideVariable = "LOOPDOCTOR_REPO_ROOT";

    private static readonly Lazy<string> LazyRoot = new(FindRoot);

    /// <summary>The repository root (the directory holding <see cref="SolutionFileName"/>).</summary>
    public static string Root => LazyRoot.Value;

    /// <summary>The build configuration of the running tests, e.g. <c>Release</c>.</summary>
    public static string Configuration { get; } =
        typeof(RepoPaths).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration is { Length: > 0 } c ? c : "Release";

    /// <summary>The target framework moniker of the running tests, e.g. <c>net10.0</c>.</summary>
    public static string TargetFramework { get; } = ShortTargetFramework(
        typeof(RepoPaths).Assembly.GetCustomAttribute<TargetFrameworkAttribute>()?.FrameworkName);

    /// <summary>The sample app's built entry assembly; throws with the build command when it is missing.</summary>
    public static string BlockingAppDll => BuiltAssembly("samples/BlockingApp", "BlockingApp");

    /// <summary>A path under the root; <paramref name="relative"/> uses '/' separators.</summary>
    public static string Combine(string relative) =>
        Path.GetFullPath(Path.Combine(Root, relative.Replace('/', Path.DirectorySeparatorChar)));

    /// <summary><c>{root}/{projectDirectory}/bin/{Configuration}/{TargetFramework}</c>.</summary>
    public static string OutputDirectory(string projectDirectory) =>
        Path.Combine(Combine(projectDirectory), "bin", Configuration, TargetFramework);

    /// <summary>The built <c>{assemblyName}.dll</c> of a project; throws <see cref="FileNotFoundException"/> naming the build command.</summary>
    public static string BuiltAssembly(string projectDirectory, string assemblyName)
    {
        var path = Path.Combine(OutputDirectory(projectDirectory), assemblyName + ".dll");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"{path} is not built. Build it first: dotnet build {projectDirectory} -c {Configuration}", path);
        }

        return path;
    }

    private static string FindRoot()
    {
        if (Environment.GetEnvironmentVariable(RootOverrideVariable) is { Length: > 0 } overridden)
        {
            return File.Exists(Path.Combine(overridden, SolutionFileName))
                ? Path.GetFullPath(overridden)
                : throw new DirectoryNotFoundException($"{RootOverrideVariable}={overridden} holds no {SolutionFileName}.");
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, SolutionFileName)))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException(
            $"No {SolutionFileName} above {AppContext.BaseDirectory}; set {RootOverrideVariable} to the repository root.");
    }

    // ".NETCoreApp,Version=v10.0" → "net10.0"
    private static string ShortTargetFramework(string? frameworkName)
    {
        const string prefix = ".NETCoreApp,Version=v";
        return frameworkName is not null && frameworkName.StartsWith(prefix, StringComparison.Ordinal)
            ? "net" + frameworkName[prefix.Length..]
            : "net10.0";
    }
}
