using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using LoopDoctor.Cli.CommandLine;
using LoopDoctor.Cli.Commands;
using LoopDoctor.Cli.Tests.CommandLine;
using static LoopDoctor.Cli.Tests.Integration.StallTargets;

namespace LoopDoctor.Cli.Tests.Integration;

/// <summary>
/// deadlock and hung-wait against real processes: lock-order deadlocks formed before the attach (found by the snapshot)
/// and during it (found by the contention events alone), on pool threads and dedicated threads, with Monitor and with
/// System.Threading.Lock (through check -p, which snapshots as diagnose does); a ManualResetEventSlim nobody sets; and a
/// busy lock without a cycle (the control).
/// </summary>
[Collection(RealProcessCollection.Name)]
public class DeadlockIntegrationTests
{
    private static readonly string[] NoAgent = ["--no-inject", "--hung-after", "3s"];

    [Fact]
    public async Task A_deadlock_formed_before_the_attach_is_named_from_a_snapshot_with_the_threads_queued_behind_it()
    {
        using var target = await StartAsync("deadlock-pool");
        await target.WaitForLineAsync(new Regex("^collections "), TimeSpan.FromSeconds(20)); // a second after the transfers started
        var (exit, report, error) = await DiagnoseAsync(target, "6s", NoAgent);
        Assert.Equal((int)ExitCode.FindingsPresent, exit);
        var deadlock = Finding(report, "deadlock") ?? throw new Xunit.Sdk.XunitException($"no deadlock in [{string.Join(", ", Kinds(report))}]: {error}");
        Assert.Equal("critical", deadlock.GetProperty("severity").GetString());
        var title = deadlock.GetProperty("title").GetString()!;
        Assert.Contains("StallTarget.TransferService._checking", title);
        Assert.Contains("StallTarget.TransferService._savings", title);
        Assert.Contains("queue behind them", title);
        var evidence = deadlock.GetProperty("evidence").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Equal(2, evidence.Count(e => e.Contains("(pool thread) holds the lock on a System.Object in StallTarget.TransferService.", StringComparison.Ordinal)
                                            && e.Contains("at StallTarget.TransferService.Transfer", StringComparison.Ordinal)));
        Assert.Contains(evidence, e => e.Contains("queue", StringComparison.Ordinal) && e.Contains("StallTarget.TransferService.PrintStatement", StringComparison.Ordinal));
        Assert.Contains(evidence, e => e.StartsWith("Seen in a snapshot of the process", StringComparison.Ordinal) && e.EndsWith("deleted after reading.", StringComparison.Ordinal));
        Assert.Equal("StallTarget.TransferService.Transfer", deadlock.GetProperty("callSites")[0].GetProperty("frames")[0].GetString());
        Assert.Contains("taking a snapshot", error);
        Assert.Contains("— DEADLOCK: 2 threads wait for each other's locks", report.GetProperty("summary").GetString());
        Assert.Null(Finding(report, "hung-wait"));
    }

    [Fact]
    public async Task A_deadlock_formed_during_the_session_on_dedicated_threads_is_found_from_contention_events_alone()
    {
        using var target = await StartAsync("deadlock-threads", "--on-go");
        var attached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var error = new SignallingWriter("observing for", attached);
        var output = new StringWriter();
        var diagnose = LoopDoctorCommandLine.InvokeAsync(
            ["diagnose", "-p", target.Pid.ToString(), "--duration", "6s", "--format", "json", "--no-snapshot", .. NoAgent],
            new CliConsole(TextWriter.Synchronized(output), TextWriter.Synchronized(error), false), CancellationToken.None);
        await attached.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await target.StandardInput.WriteLineAsync("go");
        await target.StandardInput.FlushAsync();
        await target.WaitForLineAsync(new Regex("^started$"), TimeSpan.FromSeconds(10));
        var exit = await diagnose;
        using var document = JsonDocument.Parse(output.ToString());
        var report = document.RootElement;
        Assert.Equal((int)ExitCode.FindingsPresent, exit);
        var deadlock = Finding(report, "deadlock") ?? throw new Xunit.Sdk.XunitException($"no deadlock in [{string.Join(", ", Kinds(report))}]: {error}");
        var evidence = deadlock.GetProperty("evidence").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Equal(2, evidence.Count(e => e.Contains("(not a pool thread) holds the lock on the object at 0x", StringComparison.Ordinal)
                                            && e.Contains("at StallTarget.TransferService.Transfer, stuck for at least", StringComparison.Ordinal)));
        Assert.Contains(evidence, e => e.StartsWith("Seen in the runtime's contention events", StringComparison.Ordinal));
        Assert.DoesNotContain("taking a snapshot", error.ToString());
    }

    [Fact]
    public async Task A_System_Threading_Lock_deadlock_fails_check_p_naming_the_Lock_fields_and_keep_dump_leaves_a_private_dump()
    {
        using var target = await StartAsync("deadlock-lock");
        await target.WaitForLineAsync(new Regex("^collections "), TimeSpan.FromSeconds(20));
        var baseline = Path.Combine(Path.GetTempPath(), $"loopdoctor-baseline-{Guid.NewGuid():N}.json"); // missing: an empty baseline
        var result = await CliRunner.RunAsync("check", "-p", target.Pid.ToString(), "--duration", "3s", "--warmup", "1s", "--snapshot", "--keep-dump", "--hung-after", "3s",
            "--fail-on", "deadlock", "--baseline", baseline, "--format", "json");
        Assert.True(result.ExitCode == (int)ExitCode.RegressionFound, $"exit {result.ExitCode}: {result.Error}");
        using var document = JsonDocument.Parse(result.Out);
        var failOn = document.RootElement.GetProperty("rules").EnumerateArray().Single(r => r.GetProperty("name").GetString() == "fail-on:deadlock");
        Assert.Equal("failed", failOn.GetProperty("status").GetString());
        var message = failOn.GetProperty("failures")[0].GetProperty("message").GetString()!;
        Assert.StartsWith("critical: Deadlock: 2 threads wait for each other's locks", message);
        Assert.Contains("the Lock in StallTarget.LedgerService._ledger", message);
        Assert.Contains("the Lock in StallTarget.LedgerService._journal", message);
        var kept = Regex.Match(result.Error, @"kept at (\S+\.dmp)").Groups[1].Value;
        Assert.True(File.Exists(kept), result.Error);
        try
        {
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(kept)!));
            }
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(kept)!, recursive: true);
        }
    }

    [Fact]
    public async Task A_ManualResetEventSlim_nobody_sets_is_a_hung_wait_grouped_by_call_site()
    {
        using var target = await StartAsync("hung-wait");
        await target.WaitForLineAsync(new Regex("^collections "), TimeSpan.FromSeconds(20));
        var (_, report, error) = await DiagnoseAsync(target, "6s", NoAgent);
        var hung = Finding(report, "hung-wait") ?? throw new Xunit.Sdk.XunitException($"no hung-wait in [{string.Join(", ", Kinds(report))}]: {error}");
        var site = hung.GetProperty("callSites")[0];
        Assert.Equal("StallTarget.ConfigurationCache.ReadSetting", site.GetProperty("frames")[0].GetString());
        Assert.Equal(3, site.GetProperty("count").GetInt32());
        Assert.Null(Finding(report, "deadlock"));
    }

    [Fact]
    public async Task A_busy_lock_without_a_cycle_is_contention_not_a_deadlock_and_takes_no_snapshot()
    {
        using var target = await StartAsync("busy-lock");
        var (_, report, error) = await DiagnoseAsync(target, "6s", NoAgent);
        Assert.NotNull(Finding(report, "lock-contention"));
        Assert.Null(Finding(report, "deadlock"));
        Assert.Null(Finding(report, "hung-wait"));
        Assert.DoesNotContain("taking a snapshot", error);
    }

    /// <summary>A writer that completes <paramref name="signal"/> once the text written contains <paramref name="marker"/>.</summary>
    private sealed class SignallingWriter(string marker, TaskCompletionSource signal) : StringWriter
    {
        private readonly StringBuilder _seen = new();

        public override void Write(char value)
        {
            base.Write(value);
            _seen.Append(value);
            if (value == '\n' && _seen.ToString().Contains(marker, StringComparison.Ordinal))
            {
                signal.TrySetResult();
            }
        }

        public override void Write(string? value)
        {
            foreach (var c in value ?? "")
            {
                Write(c);
            }
        }

        public override void WriteLine(string? value)
        {
            Write(value);
            Write('\n');
        }

        public override Task WriteLineAsync(string? value)
        {
            WriteLine(value);
            return Task.CompletedTask;
        }

        public override Task WriteAsync(string? value)
        {
            Write(value);
            return Task.CompletedTask;
        }
    }
}
