namespace LoopDoctor.Agent.Prometheus;

/// <summary>The two exposition formats the endpoint speaks.</summary>
internal enum PrometheusFormat
{
    /// <summary>Prometheus text format 0.0.4 — the default.</summary>
    /// <remarks>https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format</remarks>
    Text = 0,

    /// <summary>OpenMetrics 1.0 text, chosen only when the scraper asks for it in <c>Accept</c>.</summary>
    /// <remarks>https://github.com/prometheus/OpenMetrics/blob/v1.0.0/specification/OpenMetrics.md</remarks>
    OpenMetrics = 1,
}

internal static class PrometheusContentNegotiation
{
    // https://prometheus.io/docs/instrumenting/exposition_formats/#basic-info
    public const string TextContentType = "text/plain; version=0.0.4; charset=utf-8";

    // https://github.com/prometheus/OpenMetrics/blob/v1.0.0/specification/OpenMetrics.md#overall-structure
    public const string OpenMetricsContentType = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    public static string ContentTypeOf(PrometheusFormat format)
        => format == PrometheusFormat.OpenMetrics ? OpenMetricsContentType : TextContentType;

    /// <summary>
    /// Picks the format from an HTTP <c>Accept</c> header (RFC 9110 §12.5.1): OpenMetrics when
    /// <c>application/openmetrics-text</c> is acceptable (q &gt; 0) and not less preferred than the plain-text
    /// ranges; text 0.0.4 otherwise, including for a missing or malformed header. Prometheus 2.x sends
    /// <c>application/openmetrics-text;version=1.0.0,...;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1</c>.
    /// Allocation-free: it walks the header as spans.
    /// </summary>
    public static PrometheusFormat Negotiate(string? accept)
    {
        if (string.IsNullOrEmpty(accept))
        {
            return PrometheusFormat.Text;
        }

        double openMetricsQ = -1;
        double textQ = -1;
        var rest = accept.AsSpan();
        while (!rest.IsEmpty)
        {
            var comma = rest.IndexOf(',');
            var range = comma < 0 ? rest : rest[..comma];
            rest = comma < 0 ? ReadOnlySpan<char>.Empty : rest[(comma + 1)..];

            var semicolon = range.IndexOf(';');
            var mediaType = (semicolon < 0 ? range : range[..semicolon]).Trim();
            var q = semicolon < 0 ? 1.0 : ParseQuality(range[(semicolon + 1)..]);

            if (mediaType.Equals("application/openmetrics-text", StringComparison.OrdinalIgnoreCase))
            {
                openMetricsQ = Math.Max(openMetricsQ, q);
            }
            else if (mediaType.Equals("text/plain", StringComparison.OrdinalIgnoreCase)
                || mediaType.Equals("text/*", StringComparison.OrdinalIgnoreCase)
                || mediaType.Equals("*/*", StringComparison.OrdinalIgnoreCase))
            {
                textQ = Math.Max(textQ, q);
            }
        }

        return openMetricsQ > 0 && openMetricsQ >= textQ ? PrometheusFormat.OpenMetrics : PrometheusFormat.Text;
    }

    private static double ParseQuality(ReadOnlySpan<char> parameters)
    {
        while (!parameters.IsEmpty)
        {
            var semicolon = parameters.IndexOf(';');
            var parameter = (semicolon < 0 ? parameters : parameters[..semicolon]).Trim();
            parameters = semicolon < 0 ? ReadOnlySpan<char>.Empty : parameters[(semicolon + 1)..];
            if (parameter.Length > 2 && (parameter[0] == 'q' || parameter[0] == 'Q') && parameter[1] == '=')
            {
                return double.TryParse(parameter[2..], System.Globalization.NumberStyles.Float,
                    System.Globalization.CultureInfo.InvariantCulture, out var q) && q is >= 0 and <= 1 ? q : 0;
            }
        }

        return 1.0;
    }
}
