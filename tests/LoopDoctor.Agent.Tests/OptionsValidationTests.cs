namespace LoopDoctor.Agent.Tests;

public sealed class OptionsValidationTests
{
    [Fact]
    public void Defaults_are_valid() => new LoopDoctorOptions().Validate();

    [Theory]
    [InlineData(0)]
    [InlineData(20_000)]
    public void ProbeInterval_out_of_range_names_the_option(int milliseconds)
    {
        var options = new LoopDoctorOptions { ProbeInterval = TimeSpan.FromMilliseconds(milliseconds) };
        var error = Assert.Throws<LoopDoctorConfigurationException>(options.Validate);
        Assert.Equal(nameof(LoopDoctorOptions.ProbeInterval), error.OptionName);
        Assert.Contains("ProbeInterval", error.Message);
    }

    [Fact]
    public void Unhealthy_threshold_must_exceed_lag_threshold()
    {
        var options = new LoopDoctorOptions { LagThreshold = TimeSpan.FromSeconds(2), UnhealthyLagThreshold = TimeSpan.FromSeconds(1) };
        var error = Assert.Throws<LoopDoctorConfigurationException>(options.Validate);
        Assert.Equal(nameof(LoopDoctorOptions.UnhealthyLagThreshold), error.OptionName);
    }

    [Theory]
    [InlineData("ftp://127.0.0.1:9464/metrics")]
    [InlineData("not a url")]
    [InlineData("http://0.0.0.0:9464/metrics")]
    [InlineData("http://example.com:9464/metrics")]
    public void Bad_or_public_metrics_url_is_rejected(string url)
    {
        var options = new LoopDoctorOptions { MetricsUrl = url };
        var error = Assert.Throws<LoopDoctorConfigurationException>(options.Validate);
        Assert.Equal(nameof(LoopDoctorOptions.MetricsUrl), error.OptionName);
    }

    [Fact]
    public void Public_metrics_url_is_allowed_when_opted_in()
        => new LoopDoctorOptions { MetricsUrl = "http://0.0.0.0:9464/metrics", AllowNonLoopbackBinding = true }.Validate();

    [Fact]
    public void Start_with_bad_options_throws_before_anything_runs()
    {
        Assert.Throws<LoopDoctorConfigurationException>(() => LoopDoctorAgent.Start(new LoopDoctorOptions { MaxExceptionTypes = 0 }));
        Assert.Null(LoopDoctorAgent.Current);
    }
}
