using System.Globalization;

namespace LoopDoctor.Bench.Accuracy;

/// <summary>
/// A .NET runtime the matrix runs BlockingApp on (<c>--runtime 8,9,10</c>). .NET 10, the one installed here, gets every
/// column; .NET 8 and 9 run BlockingApp published self-contained (their runtime packs come from NuGet) and get the
/// after-warm-up columns only, which share one warmed target per scenario and keep the whole run near half an hour.
/// </summary>
internal sealed record TargetRuntime(int Major)
{
    /// <summary>What <c>--runtime</c> accepts, and the default: every runtime LoopDoctor supports.</summary>
    public static IReadOnlyList<int> Supported { get; } = [8, 9, 10];

    /// <summary>The runtime the harness itself and the framework-dependent BlockingApp build run on.</summary>
    public const int Installed = 10;

    public static IReadOnlyList<TargetRuntime> All { get; } = [.. Supported.Select(m => new TargetRuntime(m))];

    public string Framework => $"net{Major}.0";

    public string Name => $".NET {Major}";

    /// <summary>Every column on the installed runtime; after warm-up only (live, offline, --no-inject) on the others.</summary>
    public bool Runs(AttachMoment moment) => Major == Installed || moment == AttachMoment.AfterWarmUp;

    /// <summary>Parses <c>--runtime</c>'s value: majors separated by commas (<c>8,9,10</c>), run in that order, each once.</summary>
    public static IReadOnlyList<TargetRuntime> ParseList(string text)
    {
        var runtimes = new List<TargetRuntime>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var major) || !Supported.Contains(major))
            {
                throw new ArgumentException($"--runtime takes {string.Join(", ", Supported)} or a comma-separated list of them (got '{part}')");
            }

            if (runtimes.All(r => r.Major != major))
            {
                runtimes.Add(new TargetRuntime(major));
            }
        }

        return runtimes.Count > 0 ? runtimes : throw new ArgumentException($"--runtime needs at least one of {string.Join(", ", Supported)}");
    }
}
