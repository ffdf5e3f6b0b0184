using System.Net;
using BlockingApp.Cli;
using BlockingApp.Load;

namespace BlockingApp.Tests;

public class AppArgumentsParserTests
{
    [Fact]
    public void NoArguments_ServesOnAnEphemeralLoopbackPortWithTheAgent()
    {
        var parsed = AppArgumentsParser.Parse([]);
        Assert.Equal(AppMode.Serve, parsed.Mode);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 0), parsed.Listen);
        Assert.False(parsed.NoAgent);
        Assert.Null(parsed.Duration);
    }

    [Fact]
    public void Scenario_ServesAndDrives()
    {
        var parsed = AppArgumentsParser.Parse(["--scenario", "sync-over-async", "--fixed", "--rps=20", "--duration", "2s", "--urls", "http://localhost:5123"]);
        Assert.Equal(AppMode.ServeAndDrive, parsed.Mode);
        Assert.Equal("sync-over-async", parsed.Scenario!.Name);
        Assert.True(parsed.Fixed);
        Assert.Equal(20, parsed.RequestsPerSecond);
        Assert.Equal(TimeSpan.FromSeconds(2), parsed.Duration);
        Assert.Equal(AppArguments.DefaultDrain, parsed.Drain);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 5123), parsed.Listen);
    }

    [Fact]
    public void Load_DrivesAnotherInstance()
    {
        var parsed = AppArgumentsParser.Parse(["load", "--url", "http://127.0.0.1:5000", "--scenario", "SLEEP", "--drain", "500ms"]);
        Assert.Equal(TimeSpan.FromMilliseconds(500), parsed.Drain);
        Assert.Equal(AppMode.Drive, parsed.Mode);
        Assert.Equal(new Uri("http://127.0.0.1:5000/"), parsed.TargetUrl);
        Assert.Equal("sleep", parsed.Scenario!.Name);
        Assert.Equal(AppArguments.DefaultRps, parsed.RequestsPerSecond);
    }

    [Fact]
    public void InlineValuesAndDecimalDurations()
    {
        var parsed = AppArgumentsParser.Parse(["--scenario=cpu", "--drain=1.5s", "--duration", "00:00:03"]);
        Assert.Equal("cpu", parsed.Scenario!.Name);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), parsed.Drain);
        Assert.Equal(TimeSpan.FromSeconds(3), parsed.Duration);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("-?")]
    [InlineData("load", "--help")]
    public void Help(params string[] args) => Assert.True(AppArgumentsParser.Parse(args).ShowHelp);

    [Theory]
    [InlineData("unknown option '--bogus'", "--bogus")]
    [InlineData("unexpected argument 'serve'", "serve")]
    [InlineData("--rps needs a value", "--scenario", "sleep", "--rps")]
    [InlineData("--rps must be a number greater than 0 and at most 5000 (got 'abc')", "--scenario", "sleep", "--rps", "abc")]
    [InlineData("--rps must be a number greater than 0 and at most 5000 (got '0')", "--scenario", "sleep", "--rps", "0")]
    [InlineData("--rps must be a number greater than 0 and at most 5000 (got '-5')", "--scenario", "sleep", "--rps", "-5")]
    [InlineData("--duration must be a positive duration", "--duration", "10")]
    [InlineData("unknown scenario 'nope'", "--scenario", "nope")]
    [InlineData("--rps needs --scenario", "--rps", "5")]
    [InlineData("--fixed needs --scenario", "--fixed")]
    [InlineData("--scenario is given twice", "--scenario", "sleep", "--scenario", "cpu")]
    [InlineData("--urls must be a loopback address", "--urls", "http://10.1.2.3:80")]
    [InlineData("--urls must be an http:// address", "--urls", "https://127.0.0.1:0")]
    [InlineData("--urls takes one address", "--urls", "http://127.0.0.1:0;http://127.0.0.1:1")]
    [InlineData("--load-shedding needs the agent", "--load-shedding", "--no-agent")]
    [InlineData("'load' needs --url", "load", "--scenario", "sleep")]
    [InlineData("'load' needs --scenario", "load", "--url", "http://127.0.0.1:5000")]
    [InlineData("--urls applies to the server", "load", "--url", "http://127.0.0.1:5000", "--scenario", "sleep", "--urls", "http://127.0.0.1:0")]
    [InlineData("--url must be an http:// or https:// base address", "load", "--url", "ftp://x", "--scenario", "sleep")]
    [InlineData("--url belongs to 'load'", "--url", "http://127.0.0.1:5000")]
    [InlineData("--fixed takes no value", "--fixed=yes")]
    [InlineData("--fixed is given twice", "--scenario", "sleep", "--fixed", "--fixed")]
    [InlineData("--rps needs a value", "--scenario", "sleep", "--rps", "--fixed")]
    [InlineData("unexpected argument 'load'", "--scenario", "sleep", "load", "--url", "http://127.0.0.1:5000")]
    [InlineData("unexpected argument 'cpu'", "--scenario", "sleep", "cpu")]
    [InlineData("unknown option '--bogus'", "load", "--bogus")]
    [InlineData("--drain must be a positive duration", "--scenario", "sleep", "--drain", "0s")]
    [InlineData("--duration must be a positive duration", "--duration", "00:00:00")]
    [InlineData("--duration must be a positive duration", "--duration", "-5s")]
    [InlineData("--duration must be a positive duration", "--duration", "9999h")] // beyond a week
    [InlineData("--drain needs --scenario", "--drain", "1s")]
    [InlineData("--metrics-url needs the agent", "--metrics-url", "http://127.0.0.1:0/metrics", "--no-agent")]
    [InlineData("--metrics-url must be a loopback http:// URL", "--metrics-url", "http://10.0.0.1:9464/metrics")]
    [InlineData("--metrics-url applies to the server", "load", "--url", "http://127.0.0.1:5000", "--scenario", "sleep", "--metrics-url", "http://127.0.0.1:0/metrics")]
    public void RejectsWithOnePreciseLine(string expectedStart, params string[] args)
    {
        var error = Assert.Throws<UsageException>(() => AppArgumentsParser.Parse(args));
        Assert.StartsWith(expectedStart, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }
}

public class OpenLoopScheduleTests
{
    [Fact]
    public void SendsRateTimesDurationRequestsEvenlySpaced()
    {
        var schedule = new OpenLoopSchedule(20, TimeSpan.FromSeconds(2));
        Assert.Equal(40, schedule.PlannedRequests);
        Assert.Equal(TimeSpan.Zero, schedule.DueTime(0));
        Assert.Equal(TimeSpan.FromMilliseconds(50), schedule.DueTime(1));
        Assert.Equal(TimeSpan.FromMilliseconds(1950), schedule.DueTime(39));
    }

    [Fact]
    public void FractionalRatesAndDurations()
    {
        Assert.Equal(3, new OpenLoopSchedule(0.5, TimeSpan.FromSeconds(7)).PlannedRequests);
        Assert.Equal(15, new OpenLoopSchedule(30, TimeSpan.FromMilliseconds(500)).PlannedRequests);
        Assert.Equal(TimeSpan.FromSeconds(2), new OpenLoopSchedule(0.5, null).DueTime(1));
    }

    [Fact]
    public void WithoutDurationRunsUntilStopped() => Assert.Equal(long.MaxValue, new OpenLoopSchedule(50, null).PlannedRequests);
}

public class LatencyStatisticsTests
{
    [Fact]
    public void NearestRankPercentiles()
    {
        var values = Enumerable.Range(1, 100).Select(i => (double)i).ToArray();
        Assert.Equal(50, LatencyStatistics.Percentile(values, 50));
        Assert.Equal(99, LatencyStatistics.Percentile(values, 99));
        Assert.Equal(100, LatencyStatistics.Percentile(values, 100));
        Assert.Equal(7, LatencyStatistics.Percentile([7], 99));
        Assert.Equal(2, LatencyStatistics.Percentile([1, 2, 3], 50));
    }

    [Fact]
    public void EmptyIsNaN() => Assert.True(double.IsNaN(LatencyStatistics.Percentile([], 50)));
}
