using System.Globalization;
using System.Text;

namespace LoopDoctor.Agent.Prometheus;

/// <summary>
/// Writes Prometheus text 0.0.4 and OpenMetrics 1.0 into a <see cref="PrometheusBuffer"/>. Static and stateless:
/// the exporter owns the buffers and the per-stream name cache. Allocation-free per sample (names are pre-encoded,
/// numbers and escaped strings are written straight into the buffer); no LINQ.
/// Text format: https://prometheus.io/docs/instrumenting/exposition_formats/#text-format-details
/// OpenMetrics: https://github.com/prometheus/OpenMetrics/blob/v1.0.0/specification/OpenMetrics.md
/// </summary>
internal static class PrometheusSerializer
{
    private static ReadOnlySpan<byte> HelpPrefix => "# HELP "u8;
    private static ReadOnlySpan<byte> TypePrefix => "# TYPE "u8;
    private static ReadOnlySpan<byte> UnitPrefix => "# UNIT "u8;
    private static ReadOnlySpan<byte> Eof => "# EOF\n"u8;

    /// <summary>
    /// OpenMetrics ends with <c># EOF</c>: https://github.com/prometheus/OpenMetrics/blob/v1.0.0/specification/OpenMetrics.md#overall-structure
    /// </summary>
    public static void WriteEof(PrometheusBuffer buffer) => buffer.Write(Eof);

    /// <summary>
    /// <c># HELP</c>/<c># TYPE</c> (and <c># UNIT</c> in OpenMetrics), written once per family before its first sample.
    /// Text 0.0.4 names the family by its sample name (<c>x_total</c> for counters); OpenMetrics names it without
    /// the <c>_total</c> suffix (https://github.com/prometheus/OpenMetrics/blob/v1.0.0/specification/OpenMetrics.md#counter).
    /// </summary>
    public static void WriteFamilyHeader(PrometheusBuffer buffer, PrometheusMetricFamily family, PrometheusFormat format)
    {
        var openMetrics = format == PrometheusFormat.OpenMetrics;
        var headerName = !openMetrics && family.Type == PrometheusMetricType.Counter ? family.TotalNameUtf8 : family.BaseNameUtf8;

        if (family.HelpText.Length > 0)
        {
            buffer.Write(HelpPrefix);
            buffer.Write(headerName);
            buffer.Write((byte)' ');
            WriteEscapedHelp(buffer, family.HelpText, openMetrics);
            buffer.Write((byte)'\n');
        }

        buffer.Write(TypePrefix);
        buffer.Write(headerName);
        buffer.Write(family.Type switch
        {
            PrometheusMetricType.Counter => " counter\n"u8,
            PrometheusMetricType.Histogram => " histogram\n"u8,
            _ => " gauge\n"u8,
        });

        // # UNIT exists only in OpenMetrics, and the family name must end with the unit:
        // https://github.com/prometheus/OpenMetrics/blob/v1.0.0/specification/OpenMetrics.md#unit
        if (openMetrics && family.UnitUtf8 is { } unit)
        {
            buffer.Write(UnitPrefix);
            buffer.Write(headerName);
            buffer.Write((byte)' ');
            buffer.Write(unit);
            buffer.Write((byte)'\n');
        }
    }

    /// <summary>
    /// Writes every point in <paramref name="points"/> as samples of <paramref name="stream"/>'s family. The family
    /// header is written before the first sample when <paramref name="headerWritten"/> is false, so families with no
    /// points produce no output at all. <paramref name="scratch"/> holds one point's label set while it is repeated
    /// on each histogram bucket line.
    /// </summary>
    public static void WriteMetric(PrometheusBuffer buffer, PrometheusBuffer scratch, List<MetricPoint> points, PrometheusMetricStream stream,
        PrometheusFormat format, ref bool headerWritten)
    {
        var family = stream.Family;
        foreach (var point in points)
        {
            if (!headerWritten)
            {
                WriteFamilyHeader(buffer, family, format);
                headerWritten = true;
            }

            scratch.Clear();
            scratch.Write(stream.PrefixLabels);
            WriteTags(scratch, point.Tags, stream.PrefixLabelNames);
            var labels = scratch.WrittenSpan;

            switch (stream.MetricType)
            {
                // https://prometheus.io/docs/instrumenting/exposition_formats/#text-format-details: a counter's samples
                // end in _total in both formats (OpenMetrics requires it, the OTel spec asks it for text too).
                case MetricType.LongSum:
                    WriteSampleStart(buffer, family.TotalNameUtf8, labels);
                    WriteLong(buffer, point.LongValue);
                    buffer.Write((byte)'\n');
                    break;
                case MetricType.DoubleSum:
                    WriteSampleStart(buffer, family.TotalNameUtf8, labels);
                    WriteDouble(buffer, point.DoubleValue);
                    buffer.Write((byte)'\n');
                    break;
                case MetricType.LongSumNonMonotonic:
                    WriteSampleStart(buffer, family.BaseNameUtf8, labels);
                    WriteLong(buffer, point.LongValue);
                    buffer.Write((byte)'\n');
                    break;
                case MetricType.DoubleSumNonMonotonic:
                    WriteSampleStart(buffer, family.BaseNameUtf8, labels);
                    WriteDouble(buffer, point.DoubleValue);
                    buffer.Write((byte)'\n');
                    break;
                case MetricType.LongGauge:
                    WriteSampleStart(buffer, family.BaseNameUtf8, labels);
                    WriteLong(buffer, point.LongValue);
                    buffer.Write((byte)'\n');
                    break;
                case MetricType.DoubleGauge:
                    WriteSampleStart(buffer, family.BaseNameUtf8, labels);
                    WriteDouble(buffer, point.DoubleValue);
                    buffer.Write((byte)'\n');
                    break;
                case MetricType.Histogram:
                    WriteHistogram(buffer, family, stream.Boundaries, point, labels);
                    break;
            }
        }
    }

    /// <summary>
    /// Cumulative <c>_bucket</c> samples with an <c>le</c> label, the last being <c>+Inf</c>, then <c>_sum</c> and
    /// <c>_count</c>: https://prometheus.io/docs/concepts/metric_types/#histogram and
    /// https://github.com/prometheus/OpenMetrics/blob/v1.0.0/specification/OpenMetrics.md#histogram
    /// The aggregate's bucket counts are per bucket; Prometheus buckets are cumulative, so they are summed here.
    /// </summary>
    private static void WriteHistogram(PrometheusBuffer buffer, PrometheusMetricFamily family, double[] boundaries, MetricPoint point, ReadOnlySpan<byte> labels)
    {
        long cumulative = 0;
        var counts = point.BucketCounts!;
        for (var i = 0; i < counts.Length; i++)
        {
            cumulative += counts[i];
            buffer.Write(family.BucketNameUtf8);
            buffer.Write((byte)'{');
            if (!labels.IsEmpty)
            {
                buffer.Write(labels);
                buffer.Write((byte)',');
            }

            buffer.Write("le=\""u8);
            WriteDouble(buffer, i < boundaries.Length ? boundaries[i] : double.PositiveInfinity);
            buffer.Write("\"} "u8);
            WriteLong(buffer, cumulative);
            buffer.Write((byte)'\n');
        }

        WriteSampleStart(buffer, family.SumNameUtf8, labels);
        WriteDouble(buffer, point.Sum);
        buffer.Write((byte)'\n');

        WriteSampleStart(buffer, family.CountNameUtf8, labels);
        WriteLong(buffer, point.Count);
        buffer.Write((byte)'\n');
    }

    /// <summary><c>name{labels} </c> or <c>name </c>; no timestamp, so Prometheus stamps the scrape time and staleness works.</summary>
    private static void WriteSampleStart(PrometheusBuffer buffer, ReadOnlySpan<byte> name, ReadOnlySpan<byte> labels)
    {
        buffer.Write(name);
        if (!labels.IsEmpty)
        {
            buffer.Write((byte)'{');
            buffer.Write(labels);
            buffer.Write((byte)'}');
        }

        buffer.Write((byte)' ');
    }

    /// <summary>
    /// Appends a point's tags as <c>,name="value"</c> pairs. Names are sanitized as they are written; a tag whose
    /// sanitized name repeats an earlier label (a prefix label or a previous tag, e.g. <c>a.b</c> and <c>a_b</c>) is
    /// dropped — first wins — because a duplicate label name makes the whole scrape invalid. (The OTel spec would
    /// join such values with <c>;</c>; that needs per-point allocation for a case our instruments never produce.)
    /// </summary>
    internal static void WriteTags(PrometheusBuffer scratch, KeyValuePair<string, object?>[] tags, byte[][] prefixNames)
    {
        Span<int> starts = stackalloc int[32];
        Span<int> lengths = stackalloc int[32];
        var tracked = 0;

        foreach (var tag in tags)
        {
            var rollback = scratch.Length;
            if (scratch.Length > 0)
            {
                scratch.Write((byte)',');
            }

            var nameStart = scratch.Length;
            WriteSanitizedLabelName(scratch, tag.Key);
            var nameLength = scratch.Length - nameStart;
            var name = scratch.WrittenSpan.Slice(nameStart, nameLength);

            if (IsDuplicate(name, prefixNames, scratch.WrittenSpan, starts[..tracked], lengths[..tracked]))
            {
                scratch.Truncate(rollback);
                continue;
            }

            if (tracked < starts.Length)
            {
                starts[tracked] = nameStart;
                lengths[tracked] = nameLength;
                tracked++;
            }

            scratch.Write("=\""u8);
            WriteTagValue(scratch, tag.Value);
            scratch.Write((byte)'"');
        }
    }

    private static bool IsDuplicate(ReadOnlySpan<byte> name, byte[][] prefixNames, ReadOnlySpan<byte> written, ReadOnlySpan<int> starts, ReadOnlySpan<int> lengths)
    {
        foreach (var prefixName in prefixNames)
        {
            if (name.SequenceEqual(prefixName))
            {
                return true;
            }
        }

        for (var i = 0; i < starts.Length; i++)
        {
            if (name.SequenceEqual(written.Slice(starts[i], lengths[i])))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Label name sanitized to <c>[a-zA-Z_][a-zA-Z0-9_]*</c> while written (invalid characters → <c>_</c>, runs of
    /// <c>_</c> collapsed, leading digit prefixed with <c>_</c>); same rule as <see cref="PrometheusNaming.SanitizeLabelName"/>.
    /// https://prometheus.io/docs/concepts/data_model/#metric-names-and-labels
    /// https://opentelemetry.io/docs/specs/otel/compatibility/prometheus_and_openmetrics/#metric-attributes
    /// </summary>
    internal static void WriteSanitizedLabelName(PrometheusBuffer buffer, string name)
    {
        if (name.Length == 0)
        {
            buffer.Write((byte)'_');
            return;
        }

        var span = buffer.GetSpan(name.Length + 1);
        var n = 0;
        if (char.IsAsciiDigit(name[0]))
        {
            span[n++] = (byte)'_';
        }

        foreach (var c in name)
        {
            var b = char.IsAsciiLetterOrDigit(c) ? (byte)c : (byte)'_';
            if (b == '_' && n > 0 && span[n - 1] == '_')
            {
                continue;
            }

            span[n++] = b;
        }

        buffer.Advance(n);
    }

    private static void WriteTagValue(PrometheusBuffer buffer, object? value)
    {
        switch (value)
        {
            case null:
                return;
            case string s:
                WriteEscapedLabelValue(buffer, s);
                return;
            case bool b:
                buffer.Write(b ? "true"u8 : "false"u8);
                return;
            case double d:
                WriteDouble(buffer, d);
                return;
            case float f:
                WriteDouble(buffer, f);
                return;
            case IUtf8SpanFormattable formattable:
                // Integers and the like: invariant culture, no escaping needed (no quotes, backslashes or newlines).
                var span = buffer.GetSpan(64);
                if (formattable.TryFormat(span, out var written, default, CultureInfo.InvariantCulture))
                {
                    buffer.Advance(written);
                    return;
                }

                break;
        }

        // Rare (arrays, custom types): allocates a string.
        WriteEscapedLabelValue(buffer, Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty);
    }

    /// <summary>
    /// Label values escape <c>\</c>, <c>"</c> and line feed as <c>\\</c>, <c>\"</c>, <c>\n</c> (same in both formats):
    /// https://prometheus.io/docs/instrumenting/exposition_formats/#comments-help-text-and-type-information
    /// https://github.com/prometheus/OpenMetrics/blob/v1.0.0/specification/OpenMetrics.md#escaping
    /// </summary>
    public static void WriteEscapedLabelValue(PrometheusBuffer buffer, string value)
        => WriteEscaped(buffer, value, escapeQuote: true);

    /// <summary>
    /// HELP text escapes only <c>\</c> and line feed in text 0.0.4
    /// (https://prometheus.io/docs/instrumenting/exposition_formats/#comments-help-text-and-type-information);
    /// OpenMetrics escapes <c>"</c> too (https://github.com/prometheus/OpenMetrics/blob/v1.0.0/specification/OpenMetrics.md#escaping).
    /// </summary>
    public static void WriteEscapedHelp(PrometheusBuffer buffer, string help, bool openMetrics)
        => WriteEscaped(buffer, help, escapeQuote: openMetrics);

    private static void WriteEscaped(PrometheusBuffer buffer, string value, bool escapeQuote)
    {
        var rest = value.AsSpan();
        while (!rest.IsEmpty)
        {
            var special = escapeQuote ? rest.IndexOfAny('\\', '\n', '"') : rest.IndexOfAny('\\', '\n');
            var run = special < 0 ? rest : rest[..special];
            if (!run.IsEmpty)
            {
                var span = buffer.GetSpan(Encoding.UTF8.GetMaxByteCount(run.Length));
                buffer.Advance(Encoding.UTF8.GetBytes(run, span));
            }

            if (special < 0)
            {
                return;
            }

            buffer.Write(rest[special] switch
            {
                '\\' => "\\\\"u8,
                '\n' => "\\n"u8,
                _ => "\\\""u8,
            });
            rest = rest[(special + 1)..];
        }
    }

    /// <summary>Integers in invariant culture: no group separators, ASCII minus.</summary>
    public static void WriteLong(PrometheusBuffer buffer, long value)
    {
        var span = buffer.GetSpan(20);
        value.TryFormat(span, out var written, default, CultureInfo.InvariantCulture);
        buffer.Advance(written);
    }

    /// <summary>
    /// Floats as Go's ParseFloat reads them: <c>NaN</c>, <c>+Inf</c>, <c>-Inf</c>
    /// (https://prometheus.io/docs/instrumenting/exposition_formats/#comments-help-text-and-type-information,
    /// https://github.com/prometheus/OpenMetrics/blob/v1.0.0/specification/OpenMetrics.md#considerations-canonical-numbers),
    /// otherwise .NET's shortest round-trip form in invariant culture (e.g. <c>0.25</c>, <c>1E-05</c>).
    /// .NET's own spellings ("∞", "Infinity") would break the parse, hence the special cases.
    /// </summary>
    public static void WriteDouble(PrometheusBuffer buffer, double value)
    {
        if (double.IsNaN(value))
        {
            buffer.Write("NaN"u8);
            return;
        }

        if (double.IsPositiveInfinity(value))
        {
            buffer.Write("+Inf"u8);
            return;
        }

        if (double.IsNegativeInfinity(value))
        {
            buffer.Write("-Inf"u8);
            return;
        }

        var span = buffer.GetSpan(32);
        value.TryFormat(span, out var written, "R", CultureInfo.InvariantCulture);
        buffer.Advance(written);
    }

    /// <summary>
    /// Encodes fixed labels (constant labels, scope) once into <c>a="x",b="y"</c>, dropping repeated sanitized names
    /// (first wins). Returns the bytes and the sanitized names for de-duplicating point tags against them.
    /// </summary>
    public static (byte[] Encoded, byte[][] Names) EncodeLabels(IReadOnlyList<KeyValuePair<string, string>> labels)
    {
        var buffer = new PrometheusBuffer(256);
        var names = new List<byte[]>(labels.Count);
        foreach (var label in labels)
        {
            var rollback = buffer.Length;
            if (buffer.Length > 0)
            {
                buffer.Write((byte)',');
            }

            var nameStart = buffer.Length;
            WriteSanitizedLabelName(buffer, label.Key);
            var name = buffer.WrittenSpan[nameStart..].ToArray();
            var duplicate = false;
            foreach (var existing in names)
            {
                duplicate |= existing.AsSpan().SequenceEqual(name);
            }

            if (duplicate)
            {
                buffer.Truncate(rollback);
                continue;
            }

            names.Add(name);
            buffer.Write("=\""u8);
            WriteEscapedLabelValue(buffer, label.Value);
            buffer.Write((byte)'"');
        }

        return (buffer.WrittenSpan.ToArray(), names.ToArray());
    }
}
