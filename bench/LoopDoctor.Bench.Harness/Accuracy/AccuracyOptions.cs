using System.Globalization;
using LoopDoctor.Testing;

namespace LoopDoctor.Bench.Accuracy;

/// <summary><c>accuracy [--scenarios a,b] [--runtime 8,9,10] [--session 8] [--warm-up 12] [--out FILE]</c>, parsed.</summary>
internal sealed record AccuracyOptions(IReadOnlyList<RightAnswer> Answers, IReadOnlyList<TargetRuntime> Runtimes,
    TimeSpan Session, TimeSpan WarmUp, string? OutPath)
{
    /// <summary>Parses the arguments after <c>accuracy</c>; a bad one throws <see cref="ArgumentException"/> with a one-line message.</summary>
    public static AccuracyOptions Parse(IReadOnlyList<string> args)
    {
        var options = new AccuracyOptions(RightAnswer.All, TargetRuntime.All, TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(12), null);
        for (int i = 0; i < args.Count; i++)
        {
            string Next() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            options = args[i] switch
            {
                "--scenarios" => options with { Answers = Scenarios(Next()) },
                "--runtime" => options with { Runtimes = TargetRuntime.ParseList(Next()) },
                "--session" => options with { Session = Seconds(Next(), "--session", 1) },
                "--warm-up" => options with { WarmUp = Seconds(Next(), "--warm-up", (int)PatientUnderLoad.MinimumWarmUp.TotalSeconds) },
                "--out" => options with { OutPath = Next() },
                _ => throw new ArgumentException($"unknown option '{args[i]}'"),
            };
        }

        return options;
    }

    private static List<RightAnswer> Scenarios(string text)
    {
        var names = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var unknown = names.Where(n => RightAnswer.All.All(a => a.Scenario != n)).ToList();
        return unknown.Count == 0
            ? RightAnswer.All.Where(a => names.Contains(a.Scenario)).ToList()
            : throw new ArgumentException($"unknown scenario(s) {string.Join(", ", unknown)}; the matrix has {string.Join(", ", RightAnswer.All.Select(a => a.Scenario))}");
    }

    private static TimeSpan Seconds(string text, string option, int minimum) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= minimum
            ? TimeSpan.FromSeconds(n)
            : throw new ArgumentException($"{option} must be a whole number of seconds, at least {minimum} (got '{text}')");
}
