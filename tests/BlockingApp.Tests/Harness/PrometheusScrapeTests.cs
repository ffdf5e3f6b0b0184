using LoopDoctor.Testing;

namespace BlockingApp.Tests.Harness;

public class PrometheusScrapeTests
{
    private const string Exposition = """
        # HELP loopdoctor_thread_pool_queue_delay_seconds Time a work item waited.
        # TYPE loopdoctor_thread_pool_queue_delay_seconds histogram
        loopdoctor_thread_pool_queue_delay_seconds_bucket{le="0.01"} 90
        loopdoctor_thread_pool_queue_delay_seconds_bucket{le="0.1"} 95
        loopdoctor_thread_pool_queue_delay_seconds_bucket{le="1"} 99
        loopdoctor_thread_pool_queue_delay_seconds_bucket{le="+Inf"} 100
        loopdoctor_thread_pool_queue_delay_seconds_sum 12.5
        loopdoctor_thread_pool_queue_delay_seconds_count 100
        # TYPE loopdoctor_task_unobserved_exceptions_total counter
        loopdoctor_task_unobserved_exceptions_total{error_type="BlockingApp.Scenarios.AuditSinkUnavailableException"} 7 1700000000000
        loopdoctor_task_unobserved_exceptions_total{error_type="other",note="a \"quoted\" \\ value\nnext"} 2
        process_up 1
        """;

    [Fact]
    public void ReadsTypesCountersAndEscapedLabels()
    {
        var scrape = PrometheusScrape.Parse(Exposition);
        Assert.Equal("histogram", scrape.Types["loopdoctor_thread_pool_queue_delay_seconds"]);
        Assert.Equal(9, scrape.Sum("loopdoctor_task_unobserved_exceptions_total"));
        Assert.Null(scrape.Sum("absent_total"));
        var other = scrape.Series("loopdoctor_task_unobserved_exceptions_total").Single(s => s.Labels["error_type"] == "other");
        Assert.Equal("a \"quoted\" \\ value\nnext", other.Labels["note"]);
        Assert.Equal(1, scrape.Sum("process_up"));
    }

    [Fact]
    public void HistogramQuantileInterpolatesLikePromQL()
    {
        var histogram = PrometheusScrape.Parse(Exposition).Histogram("loopdoctor_thread_pool_queue_delay_seconds")!;
        Assert.Equal(100, histogram.Count);
        Assert.Equal(12.5, histogram.Sum);
        // rank 50 of 90 in [0, 0.01]
        Assert.Equal(0.01 * 50 / 90, histogram.Quantile(0.5), precision: 9);
        // rank 99: in (0.1, 1], 4 observations, 4th of them → upper bound
        Assert.Equal(1, histogram.Quantile(0.99), precision: 9);
        // rank 97: 2nd of 4 in (0.1, 1]
        Assert.Equal(0.1 + 0.9 * 2 / 4, histogram.Quantile(0.97), precision: 9);
        // rank 99.5 falls in +Inf: the highest finite bound
        Assert.Equal(1, histogram.Quantile(0.995));
        Assert.Equal(5, histogram.CountAbove(0.1));
    }

    [Fact]
    public void HistogramSumsSeriesAcrossLabels()
    {
        var scrape = PrometheusScrape.Parse("""
            d_bucket{pool="a",le="1"} 1
            d_bucket{pool="a",le="+Inf"} 2
            d_bucket{pool="b",le="1"} 3
            d_bucket{pool="b",le="+Inf"} 3
            d_count{pool="a"} 2
            d_count{pool="b"} 3
            """);
        var all = scrape.Histogram("d")!;
        Assert.Equal([(1.0, 4.0), (double.PositiveInfinity, 5.0)], all.Buckets);
        Assert.Equal(5, all.Count);
        var onlyB = scrape.Histogram("d", labels => labels["pool"] == "b")!;
        Assert.Equal(3, onlyB.Buckets[^1].CumulativeCount);
        Assert.Null(scrape.Histogram("missing"));
    }

    [Fact]
    public void EmptyHistogramQuantileIsNaN()
    {
        var histogram = PrometheusScrape.Parse("e_bucket{le=\"1\"} 0\ne_bucket{le=\"+Inf\"} 0\n").Histogram("e")!;
        Assert.True(double.IsNaN(histogram.Quantile(0.99)));
    }

    [Theory]
    [InlineData("metric{le=\"1} 2")]
    [InlineData("metric{le=1} 2")]
    [InlineData("metric abc")]
    [InlineData("metric 1 2 3")]
    public void RejectsMalformedLines(string line) => Assert.Throws<FormatException>(() => PrometheusScrape.Parse(line));
}
