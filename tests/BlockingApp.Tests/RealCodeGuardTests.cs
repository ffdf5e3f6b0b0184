using System.Text.RegularExpressions;
using LoopDoctor.Testing;

namespace BlockingApp.Tests;

/// <summary>
/// The patient and the tests stay real code (issue 12): no method in samples/ or tests/ may forbid the JIT to inline
/// it, since that would show LoopDoctor frames users' code never has.
/// </summary>
public partial class RealCodeGuardTests
{
    [Fact]
    public void No_source_in_samples_or_tests_forbids_inlining()
    {
        var offenders = new[] { "samples", "tests" }
            .SelectMany(dir => Directory.EnumerateFiles(RepoPaths.Combine(dir), "*.cs", SearchOption.AllDirectories))
            .Where(file => !IsBuildOutput(file) && Path.GetFileName(file) != "RealCodeGuardTests.cs") // this file spells the attribute to test the pattern
            .SelectMany(file => File.ReadLines(file).Select((line, i) => (file, line, number: i + 1)))
            .Where(x => ForbidsInlining().IsMatch(x.line))
            .Select(x => $"{Path.GetRelativePath(RepoPaths.Root, x.file)}:{x.number}: {x.line.Trim()}")
            .ToList();
        Assert.True(offenders.Count == 0, "MethodImplOptions.NoInlining is back:\n" + string.Join('\n', offenders));
    }

    [Fact]
    public void The_guard_recognises_the_attribute_in_its_usual_spellings()
    {
        Assert.Matches(ForbidsInlining(), "    [MethodImpl(MethodImplOptions" + ".NoInlining)]");
        Assert.Matches(ForbidsInlining(), "[System.Runtime.CompilerServices.MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions" + ".NoOptimization)]");
        Assert.Matches(ForbidsInlining(), "[MethodImpl((MethodImplOptions)8)]");
        Assert.DoesNotMatch(ForbidsInlining(), "[MethodImpl(MethodImplOptions.AggressiveInlining)]");
    }

    private static bool IsBuildOutput(string file) =>
        file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
        || file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal);

    // MethodImplOptions.NoInlining by name, or its value 8 cast in.
    [GeneratedRegex(@"MethodImpl\s*\(.*(NoInlining|\(MethodImplOptions\)\s*8\b)")]
    private static partial Regex ForbidsInlining();
}
