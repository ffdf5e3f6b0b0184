using System.Diagnostics;
using System.Text.RegularExpressions;
using LoopDoctor.Cli.CommandLine;
using LoopDoctor.Cli.Commands;

namespace LoopDoctor.Cli.Tests.Integration;

/// <summary><c>monitor --prometheus-port</c> serves real /metrics for the attached process, valid for promtool.</summary>
[Collection(RealProcessCollection.Name)]
public class PrometheusSidecarTests
{
    [Fact]
    public async Task Monitor_serves_the_attached_process_metrics_with_process_labels()
    {
        using var app = await TargetApp.StartAsync("sync-over-async");
        using var cts = new CancellationTokenSource();
        var output = new StringWriter();
        var error = new StringWriter();
        var console = new CliConsole(TextWriter.Synchronized(output), TextWriter.Synchronized(error), false);
        var run = LoopDoctorCommandLine.InvokeAsync(["monitor", "-p", app.ProcessId.ToString(), "--prometheus-port", "0", "--no-inject", "--format", "json"], console, cts.Token);
        try
        {
            Match url = Match.Empty;
            var watch = Stopwatch.StartNew();
            while (!(url = Regex.Match(error.ToString(), @"at (http://127\.0\.0\.1:\d+/metrics)")).Success)
            {
                Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), "no metrics URL printed: " + error);
                Assert.False(run.IsCompleted, "monitor ended early: " + error);
                await Task.Delay(50);
            }

            using var http = new HttpClient();
            var pattern = new Regex($@"^loopdoctor_thread_pool_blocking_waits_total\{{process_id=""{app.ProcessId}"",process_name=""LoopDoctor.TestTarget""[^}}]*\}} (\d+)", RegexOptions.Multiline);
            string body;
            while (true)
            {
                body = await http.GetStringAsync(url.Groups[1].Value);
                if (pattern.Match(body) is { Success: true } m && long.Parse(m.Groups[1].Value) > 0)
                {
                    break;
                }

                Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), "blocking waits never showed up:\n" + body);
                await Task.Delay(200);
            }

            Assert.Contains("loopdoctor_thread_pool_thread_injections_total{", body);
            Assert.Contains(@"kind=""blocking-wait""", body);
            if (File.Exists("/usr/bin/promtool"))
            {
                var check = Process.Start(new ProcessStartInfo("/usr/bin/promtool", ["check", "metrics"]) { RedirectStandardInput = true, RedirectStandardError = true, RedirectStandardOutput = true })!;
                await check.StandardInput.WriteAsync(body);
                check.StandardInput.Close();
                var problems = await check.StandardError.ReadToEndAsync() + await check.StandardOutput.ReadToEndAsync();
                await check.WaitForExitAsync();
                Assert.True(check.ExitCode == 0, problems);
            }
        }
        finally
        {
            await cts.CancelAsync();
            await run.WaitAsync(TimeSpan.FromSeconds(30));
        }
    }
}
