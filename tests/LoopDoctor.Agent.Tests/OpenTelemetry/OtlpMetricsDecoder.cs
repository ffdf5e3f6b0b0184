namespace LoopDoctor.Agent.Tests.OpenTelemetry;

/// <summary>
/// Just enough of the protobuf wire format to read an OTLP <c>ExportMetricsServiceRequest</c>
/// (opentelemetry-proto metrics/v1/metrics.proto): which scopes exported which metric names and units.
/// A test-only reader, so no protobuf package is needed.
/// </summary>
internal static class OtlpMetricsDecoder
{
    internal sealed record ExportedMetric(string Scope, string Name, string Unit, string Kind);

    public static List<ExportedMetric> Decode(ReadOnlySpan<byte> request)
    {
        var result = new List<ExportedMetric>();
        // ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1; }
        foreach (var (field, resourceMetrics) in LengthDelimitedFields(request))
        {
            if (field != 1) continue;
            // ResourceMetrics { Resource resource = 1; repeated ScopeMetrics scope_metrics = 2; }
            foreach (var (rmField, scopeMetrics) in LengthDelimitedFields(resourceMetrics))
            {
                if (rmField != 2) continue;
                // ScopeMetrics { InstrumentationScope scope = 1; repeated Metric metrics = 2; }
                var scopeName = "";
                var metrics = new List<byte[]>();
                foreach (var (smField, value) in LengthDelimitedFields(scopeMetrics))
                {
                    if (smField == 1) scopeName = ReadStringField(value, 1);
                    else if (smField == 2) metrics.Add(value);
                }

                foreach (var metric in metrics)
                {
                    // Metric { string name = 1; string description = 2; string unit = 3; gauge = 5; sum = 7; histogram = 9; exponential_histogram = 10; summary = 11; }
                    string name = "", unit = "", kind = "";
                    foreach (var (mField, value) in LengthDelimitedFields(metric))
                    {
                        switch (mField)
                        {
                            case 1: name = System.Text.Encoding.UTF8.GetString(value); break;
                            case 3: unit = System.Text.Encoding.UTF8.GetString(value); break;
                            case 5: kind = "gauge"; break;
                            case 7: kind = "sum"; break;
                            case 9: kind = "histogram"; break;
                            case 10: kind = "exponential_histogram"; break;
                            case 11: kind = "summary"; break;
                        }
                    }

                    result.Add(new ExportedMetric(scopeName, name, unit, kind));
                }
            }
        }

        return result;
    }

    private static string ReadStringField(byte[] message, int wanted)
    {
        foreach (var (field, value) in LengthDelimitedFields(message))
        {
            if (field == wanted) return System.Text.Encoding.UTF8.GetString(value);
        }

        return "";
    }

    /// <summary>Yields (field number, bytes) for every length-delimited field; skips varint and fixed fields.</summary>
    private static List<(int Field, byte[] Value)> LengthDelimitedFields(ReadOnlySpan<byte> message)
    {
        var fields = new List<(int, byte[])>();
        var position = 0;
        while (position < message.Length)
        {
            var key = ReadVarint(message, ref position);
            var field = (int)(key >> 3);
            switch ((int)(key & 7))
            {
                case 0: ReadVarint(message, ref position); break;
                case 1: position += 8; break;
                case 2:
                    var length = (int)ReadVarint(message, ref position);
                    if (length < 0 || position + length > message.Length) throw new FormatException("Truncated length-delimited field.");
                    fields.Add((field, message.Slice(position, length).ToArray()));
                    position += length;
                    break;
                case 5: position += 4; break;
                default: throw new FormatException($"Unsupported wire type {key & 7}.");
            }
        }

        return fields;
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> data, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (position >= data.Length) throw new FormatException("Truncated varint.");
            var b = data[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return value;
        }

        throw new FormatException("Varint too long.");
    }
}
