using LoopDoctor.Cli.Sources;
using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Tests.Sessions;

/// <summary>The pure parts of the single-pass .nettrace reader (the real file is read in DiagnoseIntegrationTests).</summary>
public class OfflineReaderPartsTests
{
    [Fact]
    public void Method_map_finds_the_method_containing_an_address_and_nothing_outside()
    {
        var map = new MethodAddressMap();
        map.Add(0x2000, 0x100, "App.Orders.Get");
        map.Add(0x1000, 0x10, "System.Threading.Tasks.Task`1[System.Int32].GetResultCore");
        Assert.Equal("App.Orders.Get", map.Find(0x2000));
        Assert.Equal("App.Orders.Get", map.Find(0x20FF));
        Assert.Null(map.Find(0x2100));
        Assert.Equal("System.Threading.Tasks.Task`1[System.Int32].GetResultCore", map.Find(0x100F));
        Assert.Null(map.Find(0x1010));
        Assert.Null(map.Find(0x0FFF));
        map.Add(0x3000, 0x20, "App.Late");   // added after a lookup: the map re-sorts
        Assert.Equal("App.Late", map.Find(0x3001));
    }

    [Fact]
    public void Interner_gives_one_id_per_distinct_stack_and_names_it_once_methods_are_known()
    {
        var stacks = new StackInterner();
        var a = stacks.Intern([0x1005, 0x2010, 0x2020, 0x9999]);
        var again = stacks.Intern([0x1005, 0x2010, 0x2020, 0x9999]);
        var b = stacks.Intern([0x2010, 0x1005]);
        Assert.Equal(a, again);
        Assert.NotEqual(a, b);
        Assert.Equal(StackInterner.None, stacks.Intern([]));
        Assert.Equal(2, stacks.Count);
        Assert.Empty(stacks[a].Frames); // unresolved until the rundown has been read

        var map = new MethodAddressMap();
        map.Add(0x1000, 0x10, "System.Threading.Tasks.Task`1[System.Int32].GetResultCore(bool)");
        map.Add(0x2000, 0x100, "App.Orders+<Get>d__3.MoveNext()");
        stacks.ResolveAll(map);
        // Unknown addresses are left out, repeated frames (0x2010 and 0x2020 are one method) kept once, names normalized.
        Assert.Equal(["System.Threading.Tasks.Task`1.GetResultCore", "App.Orders.Get"], stacks[a].Frames);
        Assert.Equal(".Result", stacks[a].BlockingApi);
        Assert.Equal(["App.Orders.Get"], stacks[a].ApplicationFrames);
        Assert.Equal(["App.Orders.Get", "System.Threading.Tasks.Task`1.GetResultCore"], stacks[b].Frames);
    }

    [Fact]
    public void Signal_log_replays_samples_and_signals_in_arrival_order_across_chunks()
    {
        var stacks = new StackInterner();
        var log = new SignalLog();
        const int samples = 70_000; // more than one 65,536-entry chunk, each a distinct stack so none collapse
        for (var i = 0; i < samples; i++)
        {
            log.AddSample(i, 7, i % 2 == 0 ? SampleKind.Managed : SampleKind.External, [(ulong)i + 1], stacks);
            if (i % 10_000 == 0)
            {
                log.Add(new WaitStopped(i + 0.5, 9));
            }
        }

        var seen = new List<Signal>();
        log.Replay(seen.Add, stacks);
        Assert.Equal(samples + 7, seen.Count);
        Assert.Equal(samples, log.SampleCount);
        Assert.True(seen.Zip(seen.Skip(1)).All(p => p.First.TimestampMs < p.Second.TimestampMs), "order kept");
        var sample = Assert.IsType<StackSample>(seen[^1]);
        Assert.Equal(7, sample.ThreadId);
        Assert.Equal(SampleKind.External, sample.Kind);
        Assert.Equal(1, sample.Count);
        Assert.IsType<WaitStopped>(seen[1]);
    }

    [Fact]
    public void Identical_samples_of_a_thread_collapse_into_a_run_until_anything_else_of_that_thread_happens()
    {
        var stacks = new StackInterner();
        var log = new SignalLog();
        ulong[] idle = [0x10, 0x20], busy = [0x30];
        log.AddSample(1, 7, SampleKind.External, idle, stacks);
        log.AddSample(2, 8, SampleKind.Managed, busy, stacks);      // another thread: does not end thread 7's run
        log.AddSample(3, 7, SampleKind.External, idle, stacks);
        log.AddSample(4, 7, SampleKind.External, idle, stacks);
        log.AddSample(5, 7, SampleKind.Managed, idle, stacks);      // same stack, other kind: a new run
        log.Add(new PoolThreadSeen(6, 7));                          // the thread did something else: run over
        log.AddSample(7, 7, SampleKind.Managed, idle, stacks);
        log.AddSample(8, 8, SampleKind.Managed, busy, stacks);

        var seen = new List<Signal>();
        log.Replay(seen.Add, stacks);
        Assert.Equal(7, log.SampleCount);
        Assert.Equal(["7@1x3..4", "8@2x2..8", "7@5x1..5", "PoolThreadSeen", "7@7x1..7"],
            seen.Select(x => x is StackSample s ? $"{s.ThreadId}@{s.TimestampMs}x{s.Count}..{s.LastTimestampMs}" : x.GetType().Name));
        Assert.Equal(2, stacks.Count); // two distinct stacks, each interned once
    }

    [Fact]
    public void A_run_of_samples_finds_the_same_long_callback_as_the_samples_one_by_one()
    {
        var stack = LoopDoctor.Cli.Tests.Detectors.SignalBuilder.PoolStack("MyApp.Reports.Render");
        var oneByOne = new LoopDoctor.Cli.Tests.Detectors.SignalBuilder().Worker(5, 0).Samples(5, 10, 400, SampleKind.Managed, stack).Worker(5, 401);
        var run = new LoopDoctor.Cli.Tests.Detectors.SignalBuilder().Worker(5, 0)
            .Add(new StackSample(10, 5, SampleKind.Managed, stack) { Count = 391, LastTimestampMs = 400 }).Worker(5, 401);

        var expected = oneByOne.Find(LoopDoctor.Cli.Findings.FindingKinds.LongCallback);
        var actual = run.Find(LoopDoctor.Cli.Findings.FindingKinds.LongCallback);
        Assert.NotNull(expected);
        Assert.Equal(expected!.Title, actual?.Title);
        Assert.Equal(expected.TotalMilliseconds, actual!.TotalMilliseconds);
    }

    [Theory]
    [InlineData("/usr/share/dotnet/dotnet /app/BlockingApp.dll --urls http://127.0.0.1:0", "BlockingApp")]
    [InlineData("\"C:\\Program Files\\dotnet\\dotnet.exe\" \"C:\\app\\Api.dll\"", "Api")]
    [InlineData("/app/Orders.Api --port 80", "Orders.Api")]
    [InlineData("", null)]
    public void Process_name_comes_from_the_traced_command_line(string commandLine, string? expected) =>
        Assert.Equal(expected, TraceFileSource.ProcessNameFrom(commandLine));
}
