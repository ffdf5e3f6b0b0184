using System.Diagnostics;
using System.Text.RegularExpressions;
using LoopDoctor.Cli.Tests.Run;
using LoopDoctor.Testing;

namespace LoopDoctor.Cli.Tests.Integration;

/// <summary>
/// monitor's live view in a real terminal: tmux (Debian package <c>tmux</c>; <c>./test.sh</c> installs it) runs
/// <c>loopdoctor monitor</c> against BlockingApp's sync-over-async, the screen is read with capture-pane until the
/// sparklines and the culprit show, then Ctrl+C is typed and the diagnosis must follow on the same screen.
/// </summary>
[Collection(RealProcessCollection.Name)]
public partial class LiveViewTerminalTests
{
    private const string Tmux = "/usr/bin/tmux";
    private const string Culprit = "BlockingApp.Scenarios.SyncOverAsyncScenario.FetchReportBlocking";
    private static readonly TimeSpan ScreenTimeout = TimeSpan.FromSeconds(60);

    [GeneratedRegex("[▁▂▃▄▅▆▇█]{5,}")]
    private static partial Regex SparklineRun();

    [Fact]
    public async Task Monitor_shows_sparklines_and_the_culprit_and_Ctrl_C_prints_the_diagnosis()
    {
        Assert.True(File.Exists(Tmux), $"tmux is missing at {Tmux}: install the Debian package 'tmux' (./test.sh does it).");
        using var app = await TargetApp.StartAsync(RepoPaths.BlockingAppDll, "--scenario", "sync-over-async", "--rps", "50");
        var socket = $"loopdoctor-{Guid.NewGuid():N}";
        // The pane stays after monitor exits, so its last screen (the diagnosis) can still be read.
        var config = Path.Combine(Path.GetTempPath(), socket + ".conf");
        await File.WriteAllTextAsync(config, "set -g remain-on-exit on\n");
        try
        {
            await RunTmuxAsync(socket, config, "new-session", "-d", "-x", "160", "-y", "50", "-s", "monitor", "-e", "LANG=C.UTF-8",
                TestProcess.DotnetHost, LoopDoctorExe.Dll, "monitor", "-p", app.ProcessId.ToString(), "--refresh", "1s");

            var live = await ScreenAsync(socket, config, s => s.Contains(Culprit) && SparklineRun().IsMatch(s) && s.Contains("Ctrl+C"));
            Assert.Contains("Queue delay", live);
            Assert.Contains("Pool threads", live);

            await RunTmuxAsync(socket, config, "send-keys", "-t", "monitor", "C-c");
            var end = await ScreenAsync(socket, config, s => s.Contains("LoopDoctor diagnosis of") && s.Contains("Fix:"));
            Assert.Contains("STARVING — ", end);
        }
        finally
        {
            await RunTmuxAsync(socket, config, "kill-server");
            File.Delete(config);
        }
    }

    /// <summary>Reads the pane until <paramref name="ready"/> holds (the view redraws every second) or the timeout passes.</summary>
    private static async Task<string> ScreenAsync(string socket, string config, Func<string, bool> ready)
    {
        var clock = Stopwatch.StartNew();
        var screen = "";
        while (clock.Elapsed < ScreenTimeout)
        {
            screen = await RunTmuxAsync(socket, config, "capture-pane", "-p", "-t", "monitor");
            if (ready(screen))
            {
                return screen;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500)); // a poll interval of the screen, not a synchronisation
        }

        Assert.Fail($"the terminal did not show what was expected within {ScreenTimeout.TotalSeconds} s; last screen:\n{screen}");
        return screen;
    }

    private static async Task<string> RunTmuxAsync(string socket, string config, params string[] arguments)
    {
        await using var tmux = TestProcess.Start(Tmux, ["-L", socket, "-f", config, .. arguments]);
        await tmux.WaitForExitAsync(TimeSpan.FromSeconds(20));
        return string.Join('\n', tmux.StdoutLines);
    }
}
