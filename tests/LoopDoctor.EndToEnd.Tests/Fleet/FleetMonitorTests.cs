using System.Globalization;
using System.Text.Json;
using LoopDoctor.EndToEnd.Tests.Infrastructure;
using LoopDoctor.Testing;
using Xunit.Abstractions;

namespace LoopDoctor.EndToEnd.Tests.Fleet;

/// <summary>
/// <c>loopdoctor monitor --diagnostic-port</c> as a pod's or a node's sidecar, simulated: BlockingApps started with
/// <c>DOTNET_DiagnosticPorts=SOCKET,nosuspend</c> connect to one monitor (ten: some healthy, two blocking, one killed
/// mid-run, one started late); a real Prometheus scrapes its one <c>/metrics</c> and is asked what a dashboard would ask.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class FleetMonitorTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    // Run lengths only bound an orphan's life should the test host die: the test ends them long before.
    private static readonly string[] Healthy = ["--scenario", "healthy", "--rps", "10", "--duration", "3m", "--drain", "1s", "--no-agent"];

    // sync-over-async starves a 2-core pool from ~50 rps (samples/BlockingApp/README.md); 60 rps reliably.
    private static readonly string[] Blocking = ["--scenario", "sync-over-async", "--rps", "60", "--duration", "3m", "--drain", "1s", "--no-agent"];

    [Fact]
    public async Task A_real_Prometheus_sees_every_live_process_of_the_fleet_by_pid_the_blocking_ones_findings_and_none_of_the_killed_one()
    {
        // Short: a Unix socket path has a ~104-byte limit.
        var socket = Path.Combine(Path.GetTempPath(), $"ldfleet-{Guid.NewGuid().ToString("N")[..8]}.sock");
        // Ten JSON reports with their timelines: far more than the default 2,000 lines kept.
        await using var monitor = LoopDoctorCli.Start(200_000, "monitor", "--diagnostic-port", socket, "--prometheus-port", "0", "--no-inject",
            "--format", "json", "--refresh", "2s", "--duration", "4m");
        var serving = await monitor.WaitForLineAsync(LoopDoctorCli.FleetLine(), Deadline, OutputStream.Stderr);
        var job = new PrometheusScrapeJob("fleet", new Uri(serving.Groups["url"].Value));

        var fleet = new TestProcessOptions();
        fleet.Environment["DOTNET_DiagnosticPorts"] = socket + ",nosuspend";
        // Ten processes in all, as a node runs them: seven healthy and two blocking at once, one healthy started late.
        string[][] fleetArgs = [Healthy, Healthy, Healthy, Blocking, Healthy, Healthy, Blocking, Healthy, Healthy];
        var started = await Task.WhenAll(fleetArgs.Select(args => BlockingAppTarget.StartAsync(args, fleet)));
        var blockingOnes = started.Where((_, i) => fleetArgs[i] == Blocking).ToList();
        var doomed = started[^1];
        BlockingAppTarget? late = null;
        await using var prometheus = await PrometheusServer.StartAsync([job], TimeSpan.FromSeconds(30));
        try
        {
            string Describe() => $"{prometheus.DescribeOutput()}\n=== monitor ===\n{monitor.DescribeOutput()}";
            const string threads = "loopdoctor_thread_pool_threads{job=\"fleet\"}";

            var live = await prometheus.QueryUntilAsync(threads, r => Pids(r).IsSupersetOf(started.Select(t => t.Pid)), Deadline);
            Assert.True(Pids(live).IsSupersetOf(started.Select(t => t.Pid)), $"live pids {string.Join(",", Pids(live))}, started {string.Join(",", started.Select(t => t.Pid))}\n{Describe()}");
            Assert.All(live, s => Assert.Equal("BlockingApp", s.Label("process")));

            foreach (var blocking in blockingOnes)
            {
                var findings = await prometheus.QueryUntilAsync($"loopdoctor_findings{{job=\"fleet\",pid=\"{blocking.Pid}\",kind=\"thread-pool-starvation\"}}", r => r.Count > 0, Deadline);
                Assert.True(findings.Count > 0, $"no thread-pool-starvation finding for the blocking pid {blocking.Pid}: " +
                                                $"{string.Join("; ", await prometheus.QueryAsync("loopdoctor_findings"))}\n{Describe()}");
            }

            doomed.Process.Kill();
            var afterKill = await prometheus.QueryUntilAsync(threads, r => !Pids(r).Contains(doomed.Pid), Deadline);
            Assert.DoesNotContain(doomed.Pid, Pids(afterKill));
            Assert.Empty(await prometheus.QueryAsync($"loopdoctor_findings{{job=\"fleet\",pid=\"{doomed.Pid}\"}}"));

            late = await BlockingAppTarget.StartAsync(Healthy, fleet);
            var withLate = await prometheus.QueryUntilAsync(threads, r => Pids(r).Contains(late.Pid), Deadline);
            Assert.True(Pids(withLate).Contains(late.Pid), $"the late pid {late.Pid} never showed up\n{Describe()}");
            // (Not asserted: that the healthy ones have no finding. Nine apps starting at once on two cores, two of them
            // starving, can delay a healthy pool past the starvation heuristic; the report says so, and it is not wrong.)

            // Ctrl+C: one report per process seen, a JSON array, the killed one marked as exited.
            monitor.Interrupt();
            await monitor.WaitForExitAsync(Deadline);
            var stdout = string.Join("\n", monitor.StdoutLines);
            using var reports = ParseOrExplain(stdout);
            var byPid = reports.RootElement.EnumerateArray().ToDictionary(r => r.GetProperty("target").GetProperty("processId").GetInt32());
            output.WriteLine(string.Join("\n", monitor.StderrLines.TakeLast(12)));
            Assert.Equal(started.Select(t => t.Pid).Append(late.Pid).Order(), byPid.Keys.Order());
            Assert.Contains("exited", byPid[doomed.Pid].GetProperty("incomplete").GetString() ?? "(complete)");
        }
        finally
        {
            foreach (var target in started.Append(late).OfType<BlockingAppTarget>())
            {
                await target.DisposeAsync();
            }
        }
    }

    private static JsonDocument ParseOrExplain(string stdout)
    {
        try
        {
            return JsonDocument.Parse(stdout);
        }
        catch (JsonException ex)
        {
            throw new Xunit.Sdk.XunitException($"monitor's stdout is not one JSON array ({ex.Message}):\n{stdout[..Math.Min(stdout.Length, 2000)]}");
        }
    }

    private static HashSet<int> Pids(IEnumerable<PrometheusVectorSample> samples)
        => samples.Select(s => int.Parse(s.Label("pid"), CultureInfo.InvariantCulture)).ToHashSet();
}
