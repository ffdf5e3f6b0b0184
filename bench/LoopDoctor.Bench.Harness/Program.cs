using System.Globalization;
using LoopDoctor.Bench.Accuracy;
using LoopDoctor.Bench.Infrastructure;
using LoopDoctor.Bench.Rows;

// LoopDoctor's performance suite. bench/run.sh builds what is needed and runs this; see docs/benchmarks.md.
// Exit codes: 0 every selected row ran (a missed goal is a figure, not an error), 1 a row could not run (the harness
// is broken: a process would not start, a file is missing), 2 bad arguments.

if (args.Length == 2 && args[0] is "parse-trace" or "parse-trace-tracelog")
{
    // P6's baselines, in their own process like `loopdoctor analyze`: a bare TraceEvent loop over the file, or TraceLog's.
    return args[0] == "parse-trace" ? BareTraceParse.Run(args[1]) : BareTraceParse.RunThroughTraceLog(args[1]);
}

if (args.Length >= 1 && args[0] == "accuracy")
{
    // bench/accuracy.sh: the attribution matrix (docs/accuracy.md), not a performance row.
    return await AccuracyCommand.RunAsync(args[1..]);
}

BenchRow[] allRows =
[
    new AgentHostCostRow(), new HotPathRow(), new LagAccuracyRow(), new DetectionLatencyRow(),
    new AttachedCliCostRow(), new OfflineThroughputRow(), new CliMemoryRow(), new InducedGcCostRow(), new TaskEventsCostRow(),
];

bool smoke = false;
string? only = null, outPath = null, repo = null, command = null;
int? pairs = null, runs = null;
TimeSpan? memoryDuration = null;
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    try
    {
        switch (args[i])
        {
            case "--smoke": smoke = true; break;
            case "--only": only = Next(); break;
            case "--out": outPath = Next(); break;
            case "--repo": repo = Next(); break;
            case "--command": command = Next(); break;
            case "--pairs": pairs = PositiveInt(Next(), "--pairs"); break;
            case "--runs": runs = PositiveInt(Next(), "--runs"); break;
            case "--memory-minutes": memoryDuration = TimeSpan.FromMinutes(PositiveInt(Next(), "--memory-minutes")); break;
            case "-h" or "--help":
                Console.WriteLine("usage: LoopDoctor.Bench.Harness [--smoke] [--only P1,P3,T1] [--pairs N] [--runs N] [--memory-minutes N] [--out FILE] [--repo DIR]");
                return 0;
            default: throw new ArgumentException($"unknown option '{args[i]}'");
        }
    }
    catch (ArgumentException e)
    {
        Console.Error.WriteLine($"bench: error: {e.Message} (see --help)");
        return 2;
    }
}

var selected = allRows.Where(r => only is null ? (!smoke || r.InSmoke) : true).ToList();
if (only is not null)
{
    var ids = only.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => s.ToUpperInvariant()).ToHashSet();
    var unknown = ids.Where(id => allRows.All(r => r.Id != id)).ToList();
    if (unknown.Count > 0)
    {
        Console.Error.WriteLine($"bench: error: unknown row(s) {string.Join(", ", unknown)}; rows are {string.Join(", ", allRows.Select(r => r.Id))}");
        return 2;
    }

    selected = allRows.Where(r => ids.Contains(r.Id)).ToList();
}

// After the arguments are checked: bad input gets its one error line and nothing else.
if (InterruptSignal.RestoreIfIgnored())
{
    Console.Error.WriteLine("bench: SIGINT was ignored (started in the background); restored it so the tools the rows stop with Ctrl+C can stop");
}

repo ??= FindRepoRoot();
if (repo is null)
{
    Console.Error.WriteLine("bench: error: cannot find the repository root (LoopDoctor.sln); pass --repo DIR");
    return 2;
}

var context = new BenchContext
{
    Smoke = smoke,
    Pairs = pairs ?? (smoke ? 1 : 5),
    Runs = runs ?? (smoke ? 1 : 3),
    MemoryDuration = memoryDuration ?? (smoke ? TimeSpan.FromSeconds(5) : TimeSpan.FromMinutes(10)),
    RepoRoot = repo,
    WorkDirectory = Directory.CreateDirectory(Path.Combine(repo, "bench", "out")).FullName,
};
outPath ??= smoke ? Path.Combine(context.WorkDirectory, "smoke.md") : Path.Combine(repo, "docs", "benchmarks.md");
command ??= "LoopDoctor.Bench.Harness " + string.Join(' ', args);
string machine = MachineInfo.Describe();
context.Log($"machine: {machine}");

// Order: agent-only rows first, then the host-cost rows, then the CLI rows (the longest last).
string[] order = ["P3", "P2", "T1", "P1", "P4", "P5", "P6", "P7"];
var results = new List<RowResult>();
bool failed = false;
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
foreach (var row in selected.OrderBy(r => Array.IndexOf(order, r.Id)))
{
    context.Log($"{row.Id}: {row.What} ...");
    RowResult result;
    try
    {
        result = await row.RunAsync(context, cancel.Token);
    }
    catch (Exception e) when (e is BenchException or IOException or InvalidOperationException or TimeoutException or HttpRequestException or System.ComponentModel.Win32Exception)
    {
        result = new RowResult(row.Id, row.What, $"harness failed: {e.Message.Split('\n')[0]}", row.Goal, RowStatus.Failed, $"```\n{e.Message}\n```\n");
    }

    failed |= result.Status == RowStatus.Failed;
    context.Log($"{row.Id}: {result.StatusText}: {result.Figure}");
    results.Add(result);
}

var previous = File.Exists(outPath) ? await File.ReadAllTextAsync(outPath) : null;
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outPath))!);
await File.WriteAllTextAsync(outPath, BenchReport.Render(allRows, results.OrderBy(r => r.Id).ToList(), previous, command, machine));
context.Log($"wrote {outPath}");
foreach (var r in results.OrderBy(r => r.Id))
{
    Console.WriteLine($"{r.Id} {r.Status}: {(r.Status == RowStatus.Skipped ? r.Figure["skipped: ".Length..] : r.Figure)}");
}

return failed ? 1 : 0;

static int PositiveInt(string text, string option) =>
    int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0
        ? n
        : throw new ArgumentException($"{option} must be a whole number greater than 0 (got '{text}')");

static string? FindRepoRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "LoopDoctor.sln")))
        {
            return dir.FullName;
        }
    }

    for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "LoopDoctor.sln")))
        {
            return dir.FullName;
        }
    }

    return null;
}
