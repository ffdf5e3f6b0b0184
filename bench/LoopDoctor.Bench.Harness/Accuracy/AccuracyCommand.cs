using LoopDoctor.Bench.Infrastructure;
using LoopDoctor.Testing;

namespace LoopDoctor.Bench.Accuracy;

/// <summary>
/// <c>LoopDoctor.Bench.Harness accuracy [--scenarios a,b] [--runtime 8,9,10] [--session 8] [--warm-up 12] [--out FILE]</c>:
/// runs the attribution matrix and writes docs/accuracy.md. Exit 0 when every cell ran (a wrong answer is a measurement,
/// not an error), 1 when a cell could not run, 2 on bad arguments.
/// </summary>
internal static class AccuracyCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        AccuracyOptions options;
        try
        {
            options = AccuracyOptions.Parse(args);
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

        var outPath = options.OutPath ?? Path.Combine(repo, "docs", "accuracy.md");
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
        IReadOnlyList<CellResult> cells;
        IReadOnlyDictionary<(int Runtime, string Scenario), TieringReport> tiering;
        try
        {
            (cells, tiering) = await new AccuracyMatrix(context, options.Session, options.WarmUp).RunAsync(options.Answers, options.Runtimes, cancel.Token);
        }
        catch (BenchException e)
        {
            Console.Error.WriteLine($"bench accuracy: error: {e.Message}");
            return 1;
        }

        var command = "./bench/accuracy.sh" + (args.Length > 0 ? " " + string.Join(' ', args) : "");
        await File.WriteAllTextAsync(outPath, AccuracyDocument.Render(cells, tiering, command, MachineInfo.Describe(), options.Session, options.WarmUp));
        foreach (var runtime in options.Runtimes)
        {
            var ran = cells.Where(c => c.Runtime == runtime).ToList();
            context.Log($"{runtime.Name}: {ran.Count(c => c.Right)} of {ran.Count} cells right");
        }

        context.Log($"wrote {outPath}");
        return cells.Any(c => c.Naming == Naming.NotRun) ? 1 : 0;
    }
}
