using System.Collections.Frozen;
using System.Text;

namespace LoopDoctor.Agent.Prometheus;

/// <summary>The Prometheus type a metric stream is exposed as.</summary>
internal enum PrometheusMetricType
{
    Gauge,
    Counter,
    Histogram,
}

/// <summary>
/// OpenTelemetry → Prometheus names, following the compatibility spec:
/// https://opentelemetry.io/docs/specs/otel/compatibility/prometheus_and_openmetrics/#metric-metadata-1
/// Runs once per metric stream (results are cached by the exporter), so it may allocate.
/// </summary>
internal static class PrometheusNaming
{
    /// <summary>
    /// Metric names must match <c>[a-zA-Z_:][a-zA-Z0-9_:]*</c>
    /// (https://prometheus.io/docs/concepts/data_model/#metric-names-and-labels). Invalid characters become
    /// <c>_</c>, and runs of <c>_</c> collapse to one, as the OTel compatibility spec requires
    /// (https://opentelemetry.io/docs/specs/otel/compatibility/prometheus_and_openmetrics/#metric-metadata-1).
    /// A leading digit gets a <c>_</c> prefix.
    /// </summary>
    public static string SanitizeMetricName(string name) => Sanitize(name, allowColon: true);

    /// <summary>
    /// Label names must match <c>[a-zA-Z_][a-zA-Z0-9_]*</c>; names starting with <c>__</c> are reserved for Prometheus
    /// (https://prometheus.io/docs/concepts/data_model/#metric-names-and-labels). Invalid characters become <c>_</c>
    /// (https://opentelemetry.io/docs/specs/otel/compatibility/prometheus_and_openmetrics/#metric-attributes) and
    /// runs of <c>_</c> collapse to one, so a sanitized name never starts with the reserved <c>__</c>.
    /// </summary>
    public static string SanitizeLabelName(string name) => Sanitize(name, allowColon: false);

    private static string Sanitize(string name, bool allowColon)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "_";
        }

        var sb = new StringBuilder(name.Length + 1);
        if (char.IsAsciiDigit(name[0]))
        {
            sb.Append('_');
        }

        foreach (var c in name)
        {
            var valid = char.IsAsciiLetterOrDigit(c) || c == '_' || (allowColon && c == ':');
            var output = valid ? c : '_';
            if (output == '_' && sb.Length > 0 && sb[^1] == '_')
            {
                continue;
            }

            sb.Append(output);
        }

        return sb.ToString();
    }

    /// <summary>
    /// The Prometheus unit word for an OTel (UCUM) unit, or null when no suffix is added.
    /// Table and rules: https://opentelemetry.io/docs/specs/otel/compatibility/prometheus_and_openmetrics/#metric-metadata-1
    /// — <c>{annotation}</c> parts are dropped, <c>foo/bar</c> becomes <c>foo_per_bar</c>, <c>1</c> becomes
    /// <c>ratio</c> on gauges only, unknown units are kept (sanitized).
    /// </summary>
    public static string? UnitSuffix(string? unit, bool isGauge)
    {
        if (string.IsNullOrWhiteSpace(unit))
        {
            return null;
        }

        var stripped = StripAnnotations(unit).Trim();
        if (stripped.Length == 0)
        {
            return null;
        }

        if (stripped == "1")
        {
            return isGauge ? "ratio" : null;
        }

        var slash = stripped.IndexOf('/');
        string? word;
        if (slash >= 0)
        {
            var numerator = stripped[..slash].Trim();
            var denominator = stripped[(slash + 1)..].Trim();
            var top = numerator.Length == 0 || numerator == "1" ? null : MainUnit(numerator);
            var bottom = denominator.Length == 0 ? null : PerUnit(denominator);
            word = (top, bottom) switch
            {
                (null, null) => null,
                (null, _) => "per_" + bottom,
                (_, null) => top,
                _ => top + "_per_" + bottom,
            };
        }
        else
        {
            word = MainUnit(stripped);
        }

        if (word is null)
        {
            return null;
        }

        var sanitized = SanitizeLabelName(word).Trim('_');
        return sanitized.Length == 0 ? null : sanitized;
    }

    private static string StripAnnotations(string unit)
    {
        if (!unit.Contains('{'))
        {
            return unit;
        }

        var sb = new StringBuilder(unit.Length);
        var depth = 0;
        foreach (var c in unit)
        {
            if (c == '{')
            {
                depth++;
            }
            else if (c == '}' && depth > 0)
            {
                depth--;
            }
            else if (depth == 0)
            {
                sb.Append(c);
            }
        }

        return sb.ToString();
    }

    private static string MainUnit(string unit) => unit switch
    {
        // Time
        "d" => "days",
        "h" => "hours",
        "min" => "minutes",
        "s" => "seconds",
        "ms" => "milliseconds",
        "us" => "microseconds",
        "ns" => "nanoseconds",
        // Bytes
        "By" => "bytes",
        "KiBy" => "kibibytes",
        "MiBy" => "mebibytes",
        "GiBy" => "gibibytes",
        "TiBy" => "tibibytes",
        "KBy" => "kilobytes",
        "MBy" => "megabytes",
        "GBy" => "gigabytes",
        "TBy" => "terabytes",
        // SI
        "m" => "meters",
        "V" => "volts",
        "A" => "amperes",
        "J" => "joules",
        "W" => "watts",
        "g" => "grams",
        // Misc
        "Cel" => "celsius",
        "Hz" => "hertz",
        "%" => "percent",
        _ => unit,
    };

    private static string PerUnit(string unit) => unit switch
    {
        "s" => "second",
        "m" => "minute",
        "h" => "hour",
        "d" => "day",
        "w" => "week",
        "mo" => "month",
        "y" => "year",
        _ => MainUnit(unit),
    };

    /// <summary>
    /// The family's base name: sanitized name plus unit suffix (unless already present), without <c>_total</c>.
    /// A counter's own trailing <c>_total</c> is removed first and re-added to its samples, so
    /// <c>requests_total</c> does not become <c>requests_total_total</c>.
    /// </summary>
    public static string FamilyBaseName(string otelName, string? unitSuffix, PrometheusMetricType type)
    {
        var name = SanitizeMetricName(otelName);
        if (type == PrometheusMetricType.Counter && name.EndsWith("_total", StringComparison.Ordinal) && name.Length > "_total".Length)
        {
            name = name[..^"_total".Length];
        }

        if (unitSuffix is not null && !name.EndsWith("_" + unitSuffix, StringComparison.Ordinal))
        {
            name = name + "_" + unitSuffix;
        }

        return name;
    }

    /// <summary>
    /// promlint (what <c>promtool check metrics</c> runs) reserves suffixes by type: only histograms and summaries may
    /// end in <c>_count</c>, <c>_sum</c> or <c>_bucket</c>, and only counters in <c>_total</c>
    /// (https://github.com/prometheus/client_golang/blob/v1.14.0/prometheus/testutil/promlint/promlint.go — lintCounter,
    /// lintHistogramSummaryReserved; the practice: https://prometheus.io/docs/practices/naming/#metric-names). The reason:
    /// a gauge <c>foo_count</c> is indistinguishable from the count series of a histogram <c>foo</c>, and PromQL tooling
    /// treats those suffixes as counter-like. The OTel mapping does produce such names — semantic conventions name
    /// UpDownCounters <c>*.count</c> (https://opentelemetry.io/docs/specs/semconv/general/naming/#naming-rules-for-counters-and-updowncounters).
    /// </summary>
    private static readonly string[] ReservedGaugeSuffixes = ["_total", "_count", "_sum", "_bucket"];

    /// <summary>
    /// Readable names for the runtime's gauges whose mapped name ends in <c>_count</c>, following Prometheus'
    /// "plural of the thing being counted" (https://prometheus.io/docs/instrumenting/writing_exporters/#metrics).
    /// Keyed by instrument name of the <c>System.Runtime</c> meter (https://learn.microsoft.com/dotnet/core/diagnostics/built-in-metrics-runtime).
    /// The README's "Differences from the OpenTelemetry Prometheus exporter" table lists them; keep the two in step.
    /// </summary>
    internal static readonly FrozenDictionary<string, string> RuntimeGaugeNames = new Dictionary<string, string>
    {
        ["dotnet.thread_pool.thread.count"] = "dotnet_thread_pool_threads",
        ["dotnet.timer.count"] = "dotnet_timers",
        ["dotnet.assembly.count"] = "dotnet_assemblies",
        ["dotnet.process.cpu.count"] = "dotnet_process_cpus",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>What the generic rename appends to a gauge whose name ends in a reserved suffix: <c>foo_count</c> → <c>foo_count_current</c>.</summary>
    public const string GaugeReservedSuffixRename = "_current";

    /// <summary>
    /// The base name to expose, renamed when <paramref name="baseName"/> ends in a suffix promlint reserves for another
    /// type (<see cref="ReservedGaugeSuffixes"/>), so that <c>promtool check metrics</c> reports nothing:
    /// <list type="bullet">
    /// <item>a gauge of the runtime's meter listed in <see cref="RuntimeGaugeNames"/> gets its readable plural name;</item>
    /// <item>any other gauge keeps its whole name and gets <see cref="GaugeReservedSuffixRename"/> appended, so it stays
    /// greppable by its OTel name and cannot collide with a histogram's <c>_count</c>/<c>_sum</c>/<c>_bucket</c> series;</item>
    /// <item>a histogram ending in <c>_total</c> loses it, as a counter's own <c>_total</c> does.</item>
    /// </list>
    /// Counters need nothing: their exposed name always ends in <c>_total</c>.
    /// </summary>
    public static string AvoidReservedSuffix(string meterName, string otelName, string baseName, PrometheusMetricType type)
    {
        switch (type)
        {
            case PrometheusMetricType.Gauge:
                if (!EndsWithAny(baseName, ReservedGaugeSuffixes))
                {
                    return baseName;
                }

                return meterName == PrometheusExposition.RuntimeMeterName && RuntimeGaugeNames.TryGetValue(otelName, out var readable)
                    ? readable
                    : baseName + GaugeReservedSuffixRename;
            case PrometheusMetricType.Histogram:
                return baseName.EndsWith("_total", StringComparison.Ordinal) && baseName.Length > "_total".Length
                    ? baseName[..^"_total".Length]
                    : baseName;
            default:
                return baseName;
        }
    }

    private static bool EndsWithAny(string name, string[] suffixes)
    {
        foreach (var suffix in suffixes)
        {
            if (name.EndsWith(suffix, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
