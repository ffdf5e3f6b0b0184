namespace LoopDoctor.Agent.Tests.Configuration;

/// <summary>
/// LoopDoctor's one duration grammar, read by the agent's LOOPDOCTOR_* variables, the loopdoctor CLI and BlockingApp
/// (the cases of the three parsers it replaced). Ranges (zero, a day, a week) are each option's, tested with the option.
/// </summary>
public sealed class DurationParserTests
{
    [Theory]
    [InlineData("250us", 0.25)]
    [InlineData("250µs", 0.25)] // micro sign
    [InlineData("250μs", 0.25)] // Greek mu
    [InlineData("500ms", 500)]
    [InlineData("10s", 10_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData(".5s", 500)]
    [InlineData("2m", 120_000)]
    [InlineData("2min", 120_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("00:00:10", 10_000)]
    [InlineData("00:01:30.5", 90_500)]
    [InlineData(" 3S ", 3_000)]
    [InlineData("500MS", 500)]
    [InlineData(" 5 ms ", 5)]
    [InlineData("9999h", 9999 * 3_600_000.0)] // parses: a week (BlockingApp) or a day (CLI) is the option's limit
    public void Parses(string text, double expectedMilliseconds)
    {
        Assert.True(DurationParser.TryParse(text, out var duration));
        Assert.Equal(expectedMilliseconds, duration.TotalMilliseconds, precision: 6);
    }

    [Theory]
    [InlineData("0s")]
    [InlineData("0ms")]
    [InlineData("00:00:00")]
    public void Zero_parses_and_each_option_decides_whether_it_may_be_zero(string text)
    {
        Assert.True(DurationParser.TryParse(text, out var duration));
        Assert.Equal(TimeSpan.Zero, duration);
    }

    [Theory]
    [InlineData("10")]      // a bare number: seconds or milliseconds?
    [InlineData("7")]
    [InlineData("0")]
    [InlineData("1.5")]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    [InlineData("s")]
    [InlineData("ms")]
    [InlineData("abc")]
    [InlineData("ten seconds")]
    [InlineData("ten s")]
    [InlineData("-5s")]
    [InlineData("-1s")]
    [InlineData("+5s")]
    [InlineData("-00:00:01")]
    [InlineData("5d")]
    [InlineData("10x")]
    [InlineData("5 parsecs")]
    [InlineData("1e3ms")]
    [InlineData("1e400s")]
    [InlineData("1.2.3s")]
    [InlineData("5.s")]
    [InlineData("5 m s")]
    [InlineData("99999999999999999999h")] // beyond TimeSpan.MaxValue
    public void Rejects(string? text) => Assert.False(DurationParser.TryParse(text, out _));

    [Theory]
    [InlineData(2_000, "2s")]
    [InlineData(500, "500ms")]
    [InlineData(1_500, "1500ms")]
    [InlineData(0.25, "0.25ms")]
    public void Formats_what_it_parses(double milliseconds, string expected)
    {
        var formatted = DurationParser.Format(TimeSpan.FromMilliseconds(milliseconds));
        Assert.Equal(expected, formatted);
        Assert.True(DurationParser.TryParse(formatted, out var back));
        Assert.Equal(milliseconds, back.TotalMilliseconds, precision: 6);
    }
}
