using System.Text.Json;
using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Reporting;

namespace LoopDoctor.Cli.Tests;

public class ReportWriterTests
{
    private static DiagnosisReport Sample() => new(
        new TargetInfo(1234, "BlockingApp"), 10.0, AgentPresence.Injected, Verdict.Starving,
        [
            new Finding(FindingKinds.BlockingWait, Severity.Critical, "Sync-over-async at X", Advice.SyncOverAsync, 12, 3400.5, 600, [new CallSite(["MyApp.A.B", "MyApp.A.C"], 12, 3400.5) { BlockingApi = ".Result" }]),
            new Finding(FindingKinds.UnobservedTaskException, Severity.Warning, "Unobserved", Advice.UnobservedTaskException, 2, 0, 0, []) { ExceptionType = "System.InvalidOperationException" },
        ],
        new ThreadPoolSummary(null, 14, 4, 250, new InjectionCounts(1, 9)));

    [Fact]
    public void Json_follows_the_contract()
    {
        var writer = new StringWriter();
        Reporters.Write(Sample(), ReportFormat.Json, writer);
        using var doc = JsonDocument.Parse(writer.ToString());
        var root = doc.RootElement;
        Assert.Equal(1234, root.GetProperty("target").GetProperty("processId").GetInt32());
        Assert.Equal("BlockingApp", root.GetProperty("target").GetProperty("processName").GetString());
        Assert.Equal(10.0, root.GetProperty("durationSeconds").GetDouble());
        Assert.Equal("injected", root.GetProperty("agent").GetString());
        Assert.Equal("starving", root.GetProperty("verdict").GetString());
        var first = root.GetProperty("findings")[0];
        Assert.Equal("blocking-wait", first.GetProperty("kind").GetString());
        Assert.Equal("critical", first.GetProperty("severity").GetString());
        Assert.Equal(12, first.GetProperty("count").GetInt64());
        Assert.Equal(3400.5, first.GetProperty("totalMilliseconds").GetDouble());
        Assert.Equal(600, first.GetProperty("maxMilliseconds").GetDouble());
        Assert.False(first.TryGetProperty("exceptionType", out _));
        var site = first.GetProperty("callSites")[0];
        Assert.Equal(["MyApp.A.B", "MyApp.A.C"], site.GetProperty("frames").EnumerateArray().Select(f => f.GetString()));
        Assert.Equal(12, site.GetProperty("count").GetInt64());
        Assert.Equal("System.InvalidOperationException", root.GetProperty("findings")[1].GetProperty("exceptionType").GetString());
        var pool = root.GetProperty("threadPool");
        Assert.Equal(JsonValueKind.Null, pool.GetProperty("queueDelayMilliseconds").ValueKind);
        Assert.Equal(14, pool.GetProperty("threadCountMax").GetInt32());
        Assert.Equal(250, pool.GetProperty("queueLengthMax").GetInt64());
        Assert.Equal(1, pool.GetProperty("injections").GetProperty("starvation").GetInt32());
        Assert.Equal(9, pool.GetProperty("injections").GetProperty("cooperativeBlocking").GetInt32());
    }

    [Fact]
    public void Text_and_markdown_name_the_verdict_the_call_site_and_the_fix()
    {
        foreach (var format in new[] { ReportFormat.Text, ReportFormat.Markdown })
        {
            var writer = new StringWriter();
            Reporters.Write(Sample(), format, writer);
            var text = writer.ToString();
            Assert.Contains("starving", text, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("MyApp.A.B", text);
            Assert.Contains("await all the way up", text);
        }
    }
}
