using LoopDoctor.Cli.Reporting;

namespace LoopDoctor.Cli.Tests.Reporting;

public class SparklineTests
{
    [Fact]
    public void Values_scale_to_the_series_maximum_and_gaps_stay_blank() =>
        Assert.Equal("▁▅█ ▁", Sparkline.Of([0, 50, 100, null, 0], width: 10));

    [Fact]
    public void A_long_series_is_merged_to_the_width_keeping_each_group_s_peak() =>
        Assert.Equal("▁█▁", Sparkline.Of([0, 0, 0, 9, 0, 0], width: 3));

    [Fact]
    public void An_all_zero_series_is_a_flat_line() =>
        Assert.Equal("▁▁▁", Sparkline.Of([0, 0, 0], width: 10));
}
