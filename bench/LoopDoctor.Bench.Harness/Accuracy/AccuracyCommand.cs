using System.Globalization;
using LoopDoctor.Bench.Infrastructure;
using LoopDoctor.Testing;

namespace LoopDoctor.Bench.Accuracy;

/// <summary>
/// <c>LoopDoctor.Bench.Harness accuracy [--scenarios a,b] [--session 8] [--warm-up 12] [--out FILE]</c>: runs the
/// attribution matrix and writes docs/accuracy.md. Exit 0 when every cell ran (a wrong answer is a measurement, not an
/// error), 1 when a cell could not run, 2 on bad arguments.
/// </summary>
internal static class AccuracyCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var answers = RightAnswer.All;
        var session = TimeSpan.FromSeconds(8);
        var warmUp = TimeSpan.FromSeconds(12);
        string? outPath = null;
        try
        {
            for (int i = 0; i < args.Length; i++)
            {
                string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
                switch (args[i])
                {
                    case "--scenarios":
                        var names = Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                        var unknown = names.Where(n => RightAnswer.All.All(a => a.Scenario != n)).ToList();
                        answers = unknown.Count == 0
                            ? RightAnswer.All.Where(a => names.Contains(a.Scenario)).ToList()
                            : throw new ArgumentException($"unknown scenario(s) {string.Join(", ", unknown)}; the matrix has {string.Join(", ", RightAnswer.All.Select(a => a.Scenario))}");
                        break;
                    case "--session": session = Seconds(Next(), "--session", 1); break;
                    case "--warm-up": warmUp = Seconds(Next(), "--warm-up", (int)PatientUnderLoad.MinimumWarmUp.TotalSeconds); break;
                    case "--out": outPath = Next(); break;
                    default: throw new ArgumentException($"unknown option '{args[i]}'");
                }
            }
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"bench accuracy: error: {e.Message}");
            return 2;
        }

        var repo = RepoPaths.Root;
        var context = new BenchContext
        {
            Smoke = false, Pairs = 1, Runs = 1, MemoryDuration = TimeSpan.Zero, RepoRoot = repo,
            WorkDirectory = Directory.CreateDirectory(Path.Combine(repo, "bench", "out")).FullName,
        };
        if ((context.MissingBlockingApp ?? context.MissingCli) is { } missing)
        {
            Console.Error.WriteLine($"bench accuracy: error: {missing}; run ./bench/accuracy.sh, which builds them");
            return 1;
        }

        outPath ??= Path.Combine(repo, "docs", "accuracy.md");
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
        var (cells, tiering) = await new AccuracyMatrix(context, session, warmUp).RunAsync(answers, cancel.Token);
        var command = "./bench/accuracy.sh" + (args.Length > 0 ? " " + string.Join(' ', args) : "");
        await File.WriteAllTextAsync(outPath, AccuracyDocument.Render(cells, tiering, command, MachineInfo.Describe(), session, warmUp));
        context.Log($"wrote {outPath}: {cells.Count(c => c.Right)} of {cells.Count} cells right");
        return cells.Any(c => c.Naming == Naming.NotRun) ? 1 : 0;
    }

    private static TimeSpan Seconds(string text, string option, int minimum) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= minimum
            ? TimeSpan.FromSeconds(n)
            : throw new ArgumentException($"{option} must be a whole number of seconds, at least {minimum} (got '{text}')");
}
