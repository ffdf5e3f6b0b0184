using System.Diagnostics;

namespace LoopDoctor.Bench.Infrastructure;

/// <summary>What every row needs: the mode, the repetition counts, where the built pieces are, a log.</summary>
internal sealed class BenchContext
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public required bool Smoke { get; init; }

    /// <summary>A/B pairs for the alternating host-cost rows (P1, P5). Full default 5.</summary>
    public required int Pairs { get; init; }

    /// <summary>Repetitions for the other rows (P2 BenchmarkDotNet runs, P3 stalls per length, P4 onsets, P6 pairs).</summary>
    public required int Runs { get; init; }

    /// <summary>P7's duration (full default 10 min).</summary>
    public required TimeSpan MemoryDuration { get; init; }

    public required string RepoRoot { get; init; }

    /// <summary>Scratch space for traces, BenchmarkDotNet artifacts and logs (bench/out, git-ignored).</summary>
    public required string WorkDirectory { get; init; }

    public string BlockingAppDll => Path.Combine(RepoRoot, "samples", "BlockingApp", "bin", "Release", "net10.0", "BlockingApp.dll");

    public string CliDll => Path.Combine(RepoRoot, "src", "LoopDoctor.Cli", "bin", "Release", "net10.0", "loopdoctor.dll");

    public string BenchmarksDll => Path.Combine(RepoRoot, "bench", "LoopDoctor.Benchmarks", "bin", "Release", "net10.0", "LoopDoctor.Benchmarks.dll");

    /// <summary>dotnet-trace, installed by run.sh with <c>dotnet tool install dotnet-trace --tool-path bench/.tools</c>.</summary>
    public string DotnetTrace => Path.Combine(RepoRoot, "bench", ".tools", "dotnet-trace");

    public string? Wrk { get; } = FindOnPath("wrk");

    public string? MissingBlockingApp => File.Exists(BlockingAppDll) ? null : $"BlockingApp not built ({Relative(BlockingAppDll)})";

    public string? MissingCli => File.Exists(CliDll) ? null : $"CLI not built ({Relative(CliDll)})";

    public string Relative(string path) => Path.GetRelativePath(RepoRoot, path);

    public void Log(string message) =>
        Console.Error.WriteLine($"[{_clock.Elapsed.TotalSeconds,7:F1}s] {message}");

    private static string? FindOnPath(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
