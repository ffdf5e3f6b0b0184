using LoopDoctor.Bench.Infrastructure;
using LoopDoctor.Testing;

namespace LoopDoctor.Bench.Accuracy;

/// <summary>
/// samples/BlockingApp for one runtime: on .NET 10 the Release build bench/accuracy.sh makes (run with <c>dotnet</c>);
/// on .NET 8 and 9 the same project published self-contained (no such runtime is installed here; the runtime packs of
/// Microsoft.NETCore.App and Microsoft.AspNetCore.App come from NuGet, as for the tests' RuntimeTargets).
/// </summary>
internal static class BlockingAppBuilds
{
    /// <summary>A publish can download two runtime packs on a cold NuGet cache.</summary>
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(10);

    /// <summary>Where a self-contained publish goes: <c>samples/BlockingApp/bin/runtimes/{framework}</c> (under bin/, ignored by git).</summary>
    public static string PublishDirectory(BenchContext context, TargetRuntime runtime) =>
        Path.Combine(context.RepoRoot, "samples", "BlockingApp", "bin", "runtimes", runtime.Framework);

    /// <summary>The BlockingApp to start for <paramref name="runtime"/>: a dll, or a published executable; publishes first where needed.</summary>
    public static async Task<string> PrepareAsync(BenchContext context, TargetRuntime runtime, CancellationToken cancellationToken)
    {
        if (runtime.Major == TargetRuntime.Installed)
        {
            return context.BlockingAppDll;
        }

        var output = PublishDirectory(context, runtime);
        string[] args =
        [
            "publish", Path.Combine(context.RepoRoot, "samples", "BlockingApp", "BlockingApp.csproj"), "-c", "Release",
            $"-p:BlockingAppTargetFramework={runtime.Framework}", "-r", RuntimeTargets.RuntimeIdentifier, "--self-contained",
            "-o", output, "-nologo", "-v", "q", "-nodeReuse:false",
        ];
        context.Log($"{runtime.Name}: dotnet {string.Join(' ', args)}");
        using var process = ChildProcess.Start("dotnet", args);
        using var registration = cancellationToken.Register(process.Dispose);
        if (!await process.WaitForExitAsync(PublishTimeout).ConfigureAwait(false) || process.ExitCode != 0)
        {
            throw new BenchException($"publishing BlockingApp for {runtime.Framework} failed:\n{process.Tail(20)}");
        }

        var executable = Path.Combine(output, OperatingSystem.IsWindows() ? "BlockingApp.exe" : "BlockingApp");
        return File.Exists(executable) ? executable : throw new BenchException($"the publish for {runtime.Framework} wrote no {context.Relative(executable)}");
    }
}
