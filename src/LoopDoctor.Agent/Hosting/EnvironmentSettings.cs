using System.Collections;
using System.Globalization;

namespace LoopDoctor.Agent.Hosting;

/// <summary>
/// Reads agent settings from <c>LOOPDOCTOR_*</c> environment variables, the only configuration a startup hook or an
/// injected agent has. <see cref="Apply"/> is pure: it takes the variables as a dictionary
/// (<see cref="Environment.GetEnvironmentVariables()"/>) and reports every bad value as a line that names the variable.
/// </summary>
/// <remarks>
/// Durations accept <c>250us</c>, <c>500ms</c>, <c>10s</c>, <c>2m</c>, <c>1h</c> (decimals allowed, e.g. <c>1.5s</c>)
/// or a TimeSpan such as <c>00:00:10</c>; a bare number is rejected because its unit would be a guess.
/// Booleans accept true/false, 1/0, yes/no, on/off (any case). An empty variable counts as unset.
/// Unknown <c>LOOPDOCTOR_*</c> names (typos) are returned as warnings, not errors.
/// </remarks>
public static class EnvironmentSettings
{
    public const string Prefix = "LOOPDOCTOR_";
    public const string EnabledVariable = "LOOPDOCTOR_ENABLED";

    // Read elsewhere, not options: known, so not reported as typos.
    private static readonly string[] OtherKnownVariables = ["LOOPDOCTOR_LOG"];

    private sealed record Setting(string Variable, string Option, Func<string, LoopDoctorOptions, string?> Apply);

    // Variable → option. Each Apply returns null on success or the rule the value broke.
    private static readonly Setting[] Settings =
    [
        Duration("LOOPDOCTOR_PROBE_INTERVAL", nameof(LoopDoctorOptions.ProbeInterval), (o, v) => o.ProbeInterval = v),
        Bool("LOOPDOCTOR_QUEUE_DELAY_PROBE", nameof(LoopDoctorOptions.EnableQueueDelayProbe), (o, v) => o.EnableQueueDelayProbe = v),
        Bool("LOOPDOCTOR_TIMER_LAG_PROBE", nameof(LoopDoctorOptions.EnableTimerLagProbe), (o, v) => o.EnableTimerLagProbe = v),
        Duration("LOOPDOCTOR_TIMER_LAG_INTERVAL", nameof(LoopDoctorOptions.TimerLagInterval), (o, v) => o.TimerLagInterval = v),
        Duration("LOOPDOCTOR_LAG_THRESHOLD", nameof(LoopDoctorOptions.LagThreshold), (o, v) => o.LagThreshold = v),
        Duration("LOOPDOCTOR_UNHEALTHY_LAG_THRESHOLD", nameof(LoopDoctorOptions.UnhealthyLagThreshold), (o, v) => o.UnhealthyLagThreshold = v),
        Duration("LOOPDOCTOR_HEALTH_WINDOW", nameof(LoopDoctorOptions.HealthWindow), (o, v) => o.HealthWindow = v),
        Bool("LOOPDOCTOR_CAPTURE_THREAD_INJECTIONS", nameof(LoopDoctorOptions.CaptureThreadInjections), (o, v) => o.CaptureThreadInjections = v),
        Bool("LOOPDOCTOR_CAPTURE_BLOCKING_WAITS", nameof(LoopDoctorOptions.CaptureBlockingWaits), (o, v) => o.CaptureBlockingWaits = v),
        Bool("LOOPDOCTOR_CAPTURE_LOCK_CONTENTION", nameof(LoopDoctorOptions.CaptureLockContention), (o, v) => o.CaptureLockContention = v),
        Bool("LOOPDOCTOR_TRACK_UNOBSERVED_TASK_EXCEPTIONS", nameof(LoopDoctorOptions.TrackUnobservedTaskExceptions), (o, v) => o.TrackUnobservedTaskExceptions = v),
        Bool("LOOPDOCTOR_OBSERVE_UNOBSERVED_TASK_EXCEPTIONS", nameof(LoopDoctorOptions.ObserveUnobservedTaskExceptions), (o, v) => o.ObserveUnobservedTaskExceptions = v),
        Bool("LOOPDOCTOR_INCLUDE_EXCEPTION_MESSAGES", nameof(LoopDoctorOptions.IncludeExceptionMessages), (o, v) => o.IncludeExceptionMessages = v),
        Int("LOOPDOCTOR_MAX_EXCEPTION_TYPES", nameof(LoopDoctorOptions.MaxExceptionTypes), (o, v) => o.MaxExceptionTypes = v),
        Bool("LOOPDOCTOR_INCLUDE_RUNTIME_METRICS", nameof(LoopDoctorOptions.IncludeRuntimeMetrics), (o, v) => o.IncludeRuntimeMetrics = v),
        new("LOOPDOCTOR_METRICS_URL", nameof(LoopDoctorOptions.MetricsUrl), (text, o) => { o.MetricsUrl = text; return null; }),
        Bool("LOOPDOCTOR_ALLOW_NON_LOOPBACK", nameof(LoopDoctorOptions.AllowNonLoopbackBinding), (o, v) => o.AllowNonLoopbackBinding = v),
        Duration("LOOPDOCTOR_SCRAPE_CACHE_DURATION", nameof(LoopDoctorOptions.ScrapeCacheDuration), (o, v) => o.ScrapeCacheDuration = v),
    ];

    /// <summary>Every variable this class reads, with the option it sets (for docs and error messages).</summary>
    public static IReadOnlyList<(string Variable, string Option)> Variables { get; } =
        [(EnabledVariable, "(agent on/off)"), .. Settings.Select(s => (s.Variable, s.Option))];

    /// <summary>
    /// Applies every <c>LOOPDOCTOR_*</c> variable in <paramref name="environment"/> to <paramref name="options"/>.
    /// Does not validate ranges (that is <see cref="LoopDoctorOptions.Validate"/>; use <see cref="VariableFor"/> to
    /// name the variable in its error). Never throws for bad values.
    /// </summary>
    public static EnvironmentSettingsResult Apply(IDictionary environment, LoopDoctorOptions options)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        var warnings = new List<string>();
        var enabled = true;

        foreach (DictionaryEntry entry in environment)
        {
            if (entry.Key is not string name || !name.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var text = (entry.Value as string)?.Trim();
            if (string.IsNullOrEmpty(text))
            {
                continue;
            }

            if (name.Equals(EnabledVariable, StringComparison.OrdinalIgnoreCase))
            {
                if (TryParseBool(text, out var on))
                {
                    enabled = on;
                }
                else
                {
                    errors.Add(BoolError(EnabledVariable, text));
                }

                continue;
            }

            var setting = Array.Find(Settings, s => s.Variable.Equals(name, StringComparison.OrdinalIgnoreCase));
            if (setting is null && Array.Exists(OtherKnownVariables, v => v.Equals(name, StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            if (setting is null)
            {
                warnings.Add($"{name} is not a LoopDoctor setting and was ignored.");
                continue;
            }

            if (setting.Apply(text, options) is { } rule)
            {
                errors.Add($"{setting.Variable}='{text}' {rule}");
            }
        }

        errors.Sort(StringComparer.Ordinal); // Hashtable order is arbitrary; keep messages stable.
        warnings.Sort(StringComparer.Ordinal);
        return new EnvironmentSettingsResult(enabled, errors, warnings);
    }

    /// <summary>The variable that sets option <paramref name="optionName"/>, or null.</summary>
    public static string? VariableFor(string optionName)
        => Array.Find(Settings, s => s.Option == optionName)?.Variable;

    /// <summary>
    /// Parses <c>250us</c>, <c>500ms</c>, <c>1.5s</c>, <c>2m</c>, <c>1h</c> or a TimeSpan (<c>00:00:10</c>): LoopDoctor's one
    /// duration grammar, the same as the <c>loopdoctor</c> CLI's. A bare number or a negative duration does not parse.
    /// </summary>
    public static bool TryParseDuration(string text, out TimeSpan value) => DurationParser.TryParse(text, out value);

    public static bool TryParseBool(string text, out bool value)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "true" or "1" or "yes" or "on":
                value = true;
                return true;
            case "false" or "0" or "no" or "off":
                value = false;
                return true;
            default:
                value = false;
                return false;
        }
    }

    private static Setting Duration(string variable, string option, Action<LoopDoctorOptions, TimeSpan> set)
        => new(variable, option, (text, o) =>
        {
            if (!TryParseDuration(text, out var value))
            {
                return $"is not a duration (use e.g. {DurationParser.Examples}).";
            }

            set(o, value);
            return null;
        });

    private static Setting Bool(string variable, string option, Action<LoopDoctorOptions, bool> set)
        => new(variable, option, (text, o) =>
        {
            if (!TryParseBool(text, out var value))
            {
                return "is not a boolean (use true or false).";
            }

            set(o, value);
            return null;
        });

    private static Setting Int(string variable, string option, Action<LoopDoctorOptions, int> set)
        => new(variable, option, (text, o) =>
        {
            if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            {
                return "is not a whole number.";
            }

            set(o, value);
            return null;
        });

    private static string BoolError(string variable, string text) => $"{variable}='{text}' is not a boolean (use true or false).";
}

/// <summary>What <see cref="EnvironmentSettings.Apply"/> found.</summary>
/// <param name="Enabled">False when <c>LOOPDOCTOR_ENABLED</c> says so: the hook then does nothing.</param>
/// <param name="Errors">One line per bad value, each naming its variable. Empty when all values parsed.</param>
/// <param name="Warnings">Unknown <c>LOOPDOCTOR_*</c> variables (likely typos).</param>
public sealed record EnvironmentSettingsResult(bool Enabled, IReadOnlyList<string> Errors, IReadOnlyList<string> Warnings);
