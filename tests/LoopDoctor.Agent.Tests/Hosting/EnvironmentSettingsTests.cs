using System.Collections;
using LoopDoctor.Agent.Hosting;

namespace LoopDoctor.Agent.Tests.Hosting;

public sealed class EnvironmentSettingsTests
{
    private static (LoopDoctorOptions Options, EnvironmentSettingsResult Result) Apply(params (string Name, string Value)[] variables)
    {
        var env = new Hashtable { ["PATH"] = "/usr/bin", ["DOTNET_gcServer"] = "1" };
        foreach (var (name, value) in variables)
        {
            env[name] = value;
        }

        var options = new LoopDoctorOptions();
        return (options, EnvironmentSettings.Apply(env, options));
    }

    [Fact]
    public void No_variables_leave_the_defaults()
    {
        var (options, result) = Apply();
        Assert.True(result.Enabled);
        Assert.Empty(result.Errors);
        Assert.Empty(result.Warnings);
        Assert.Equal(new LoopDoctorOptions().ProbeInterval, options.ProbeInterval);
        Assert.Null(options.MetricsUrl);
    }

    [Fact]
    public void Every_setting_is_applied()
    {
        var (o, result) = Apply(
            ("LOOPDOCTOR_PROBE_INTERVAL", "20ms"), ("LOOPDOCTOR_QUEUE_DELAY_PROBE", "false"), ("LOOPDOCTOR_TIMER_LAG_PROBE", "off"),
            ("LOOPDOCTOR_TIMER_LAG_INTERVAL", "1s"), ("LOOPDOCTOR_LAG_THRESHOLD", "250ms"), ("LOOPDOCTOR_UNHEALTHY_LAG_THRESHOLD", "2s"),
            ("LOOPDOCTOR_HEALTH_WINDOW", "00:00:30"), ("LOOPDOCTOR_CAPTURE_THREAD_INJECTIONS", "0"), ("LOOPDOCTOR_CAPTURE_BLOCKING_WAITS", "FALSE"),
            ("LOOPDOCTOR_CAPTURE_LOCK_CONTENTION", "no"), ("LOOPDOCTOR_TRACK_UNOBSERVED_TASK_EXCEPTIONS", "false"),
            ("LOOPDOCTOR_OBSERVE_UNOBSERVED_TASK_EXCEPTIONS", "true"), ("LOOPDOCTOR_INCLUDE_EXCEPTION_MESSAGES", "yes"),
            ("LOOPDOCTOR_MAX_EXCEPTION_TYPES", "7"), ("LOOPDOCTOR_INCLUDE_RUNTIME_METRICS", "false"),
            ("LOOPDOCTOR_METRICS_URL", "http://127.0.0.1:9464/metrics"), ("LOOPDOCTOR_ALLOW_NON_LOOPBACK", "1"),
            ("LOOPDOCTOR_SCRAPE_CACHE_DURATION", "2m"), ("LOOPDOCTOR_ENABLED", "true"));

        Assert.Empty(result.Errors);
        Assert.True(result.Enabled);
        Assert.Equal(TimeSpan.FromMilliseconds(20), o.ProbeInterval);
        Assert.False(o.EnableQueueDelayProbe);
        Assert.False(o.EnableTimerLagProbe);
        Assert.Equal(TimeSpan.FromSeconds(1), o.TimerLagInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(250), o.LagThreshold);
        Assert.Equal(TimeSpan.FromSeconds(2), o.UnhealthyLagThreshold);
        Assert.Equal(TimeSpan.FromSeconds(30), o.HealthWindow);
        Assert.False(o.CaptureThreadInjections);
        Assert.False(o.CaptureBlockingWaits);
        Assert.False(o.CaptureLockContention);
        Assert.False(o.TrackUnobservedTaskExceptions);
        Assert.True(o.ObserveUnobservedTaskExceptions);
        Assert.True(o.IncludeExceptionMessages);
        Assert.Equal(7, o.MaxExceptionTypes);
        Assert.False(o.IncludeRuntimeMetrics);
        Assert.Equal("http://127.0.0.1:9464/metrics", o.MetricsUrl);
        Assert.True(o.AllowNonLoopbackBinding);
        Assert.Equal(TimeSpan.FromMinutes(2), o.ScrapeCacheDuration);
        Assert.Equal(EnvironmentSettings.Variables.Count - 1, typeof(LoopDoctorOptions).GetProperties().Count(p => p.CanWrite && p.Name != nameof(LoopDoctorOptions.Mode)));
    }

    // The grammar's cases are in Configuration/DurationParserTests (one parser for the agent, the CLI and BlockingApp).
    [Fact]
    public void Durations_use_the_one_grammar_and_leave_ranges_to_Validate()
    {
        var (options, result) = Apply(("LOOPDOCTOR_PROBE_INTERVAL", "250us"), ("LOOPDOCTOR_SCRAPE_CACHE_DURATION", "0s"), ("LOOPDOCTOR_LAG_THRESHOLD", "10"));
        Assert.Equal(TimeSpan.FromMicroseconds(250), options.ProbeInterval);
        Assert.Equal(TimeSpan.Zero, options.ScrapeCacheDuration); // 0 – 60 s: zero is in range
        Assert.Equal(["LOOPDOCTOR_LAG_THRESHOLD='10' is not a duration (use e.g. 500ms, 10s, 2m or 00:00:10)."], result.Errors);
        Assert.True(EnvironmentSettings.TryParseDuration("1.5s", out var value));
        Assert.Equal(TimeSpan.FromMilliseconds(1500), value);
    }

    [Fact]
    public void Bad_values_are_reported_one_line_each_naming_the_variable()
    {
        var (options, result) = Apply(
            ("LOOPDOCTOR_PROBE_INTERVAL", "fast"), ("LOOPDOCTOR_CAPTURE_BLOCKING_WAITS", "maybe"),
            ("LOOPDOCTOR_MAX_EXCEPTION_TYPES", "lots"), ("LOOPDOCTOR_ENABLED", "sure"));

        Assert.Equal(4, result.Errors.Count);
        Assert.Contains(result.Errors, e => e.StartsWith("LOOPDOCTOR_PROBE_INTERVAL='fast' is not a duration", StringComparison.Ordinal));
        Assert.Contains(result.Errors, e => e.StartsWith("LOOPDOCTOR_CAPTURE_BLOCKING_WAITS='maybe' is not a boolean", StringComparison.Ordinal));
        Assert.Contains(result.Errors, e => e.StartsWith("LOOPDOCTOR_MAX_EXCEPTION_TYPES='lots' is not a whole number", StringComparison.Ordinal));
        Assert.Contains(result.Errors, e => e.StartsWith("LOOPDOCTOR_ENABLED='sure'", StringComparison.Ordinal));
        Assert.All(result.Errors, e => Assert.DoesNotContain('\n', e));
        Assert.Equal(new LoopDoctorOptions().ProbeInterval, options.ProbeInterval);
    }

    [Fact]
    public void Disabled_and_unknown_variables()
    {
        var (_, result) = Apply(("LOOPDOCTOR_ENABLED", "false"), ("LOOPDOCTOR_PROBE_INTERVALL", "10ms"), ("LOOPDOCTOR_LAG_THRESHOLD", ""),
            ("LOOPDOCTOR_LOG", "stderr"));
        Assert.False(result.Enabled);
        Assert.Empty(result.Errors);
        Assert.Equal(["LOOPDOCTOR_PROBE_INTERVALL is not a LoopDoctor setting and was ignored."], result.Warnings);
    }

    [Fact]
    public void Range_errors_from_Validate_map_back_to_the_variable()
    {
        var (options, result) = Apply(("LOOPDOCTOR_PROBE_INTERVAL", "1h"));
        Assert.Empty(result.Errors);
        var error = Assert.Throws<LoopDoctorConfigurationException>(options.Validate);
        Assert.Equal("LOOPDOCTOR_PROBE_INTERVAL", EnvironmentSettings.VariableFor(error.OptionName));
    }
}
