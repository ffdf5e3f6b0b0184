using LoopDoctor.Cli.Tests.CommandLine;
using LoopDoctor.Cli.Tests.Reporting;
using LoopDoctor.Testing;

namespace LoopDoctor.Cli.Tests.Integration;

/// <summary>
/// What <c>loopdoctor demo --format html --output report.html</c> writes, rendered by the real headless Chromium: the
/// demo's patient (BlockingApp, sync-over-async under 50 requests/s, without its embedded agent so loopdoctor injects
/// it) diagnosed for real, the page read back from the browser's DOM, and a screenshot kept as the test's artifact
/// (artifacts/test/html-report.png; with LOOPDOCTOR_UPDATE_SCREENSHOTS=1 also docs/images/html-report.png, the README's).
/// </summary>
[Collection(RealProcessCollection.Name)]
public class HtmlReportIntegrationTests
{
    private const string Culprit = "BlockingApp.Scenarios.SyncOverAsyncScenario.FetchReportBlocking";

    [Fact]
    public async Task The_demo_report_in_Chromium_charts_the_session_and_names_the_culprit()
    {
        using var app = await TargetApp.StartAsync(RepoPaths.BlockingAppDll, "--scenario", "sync-over-async", "--rps", "50", "--no-agent");
        var html = Path.Combine(Path.GetTempPath(), $"loopdoctor-report-{Guid.NewGuid():N}.html");
        try
        {
            var result = await CliRunner.RunAsync("diagnose", "-p", app.ProcessId.ToString(), "--duration", "8s", "--format", "html", "--output", html);
            Assert.True(result.ExitCode == (int)ExitCode.FindingsPresent, result.Error);

            var dom = await HeadlessChromium.DumpDomAsync(html);
            var page = HtmlReportTests.PageCheck.From(dom);

            page.AssertComplete(charts: 6);
            Assert.Contains(Culprit, dom);
            Assert.Matches("class=\"verdict verdict-(starving|degraded)\"", dom);
            // The stall itself is on the charts, not only zeros: delay, threads, injections, waits.
            Assert.All(new[] { "queue-delay", "threads", "injections", "waits" }, id => Assert.True(page.NonZero.GetValueOrDefault(id) > 0, $"{id}: nothing above zero"));
            Assert.True(page.Episodes > 0, "no finding's episode marked");
            page.AssertGcPausesDrawn(dom);

            var screenshot = RepoPaths.Combine("artifacts/test/html-report.png");
            Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
            await HeadlessChromium.ScreenshotAsync(html, screenshot, 1100, 1500);
            if (Environment.GetEnvironmentVariable("LOOPDOCTOR_UPDATE_SCREENSHOTS") == "1")
            {
                File.Copy(screenshot, RepoPaths.Combine("docs/images/html-report.png"), overwrite: true);
            }
        }
        finally
        {
            File.Delete(html);
        }
    }
}
