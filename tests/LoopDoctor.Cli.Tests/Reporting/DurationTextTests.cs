using LoopDoctor.Cli.Reporting;

namespace LoopDoctor.Cli.Tests.Reporting;

/// <summary>The one duration rule: a readable unit, 2 significant digits under 10 of it, whole units from 10 up.</summary>
public class DurationTextTests
{
    [Theory]
    [InlineData(0, "0 ms")]
    [InlineData(0.28, "0.28 ms")]
    [InlineData(0.0123, "0.012 ms")]
    [InlineData(0.1, "0.10 ms")]
    [InlineData(1, "1.0 ms")]
    [InlineData(7.14, "7.1 ms")]
    [InlineData(9.96, "10 ms")]
    [InlineData(12.4, "12 ms")]
    [InlineData(850.2, "850 ms")]
    [InlineData(999.6, "1.0 s")]
    [InlineData(7112.65, "7.1 s")]
    [InlineData(8000, "8.0 s")]
    [InlineData(59_960, "1.0 min")]
    [InlineData(299_000, "5.0 min")]
    [InlineData(435_553.2, "7.3 min")]
    [InlineData(3_600_000, "1.0 h")]
    [InlineData(-12.4, "-12 ms")]
    public void Durations_read_at_a_glance(double milliseconds, string expected) =>
        Assert.Equal(expected, DurationText.FromMilliseconds(milliseconds));

    [Fact]
    public void Seconds_follow_the_same_rule() => Assert.Equal("10 s", DurationText.FromSeconds(10.02));

    [Fact]
    public void Every_value_has_two_or_three_significant_digits_and_never_a_four_digit_number()
    {
        for (var ms = 0.001; ms < 1e8; ms *= 1.07)
        {
            var text = DurationText.FromMilliseconds(ms);
            var number = text[..text.IndexOf(' ')];
            var digits = number.TrimStart('0', '.').Replace(".", "", StringComparison.Ordinal);
            Assert.True(digits.Length is 2 or 3, $"{ms} ms → {text}");
        }
    }
}
