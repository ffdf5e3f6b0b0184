using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace LoopDoctor.Cli.Reporting;

/// <summary>
/// Source-generated metadata for every JSON document loopdoctor writes (report, check verdict, baseline) and reads
/// (baseline): no reflection at run time, and the documents' records are the contract.
/// Nulls are written (the contract has explicit nulls); the few optional fields opt out with JsonIgnore(WhenWritingNull).
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(ReportDocument))]
[JsonSerializable(typeof(CheckDocument))]
[JsonSerializable(typeof(BaselineDocument))]
internal sealed partial class ReportJsonContext : JsonSerializerContext
{
}

internal static class ReportJson
{
    /// <summary>
    /// Indented JSON through a Utf8JsonWriter, whose options (not the serializer's) set the escaping: the report relaxes it,
    /// check and the baseline file keep the default encoder they have always used, so their bytes do not change.
    /// </summary>
    public static string Serialize<T>(T value, JsonTypeInfo<T> typeInfo, JavaScriptEncoder? encoder = null)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = encoder }))
        {
            JsonSerializer.Serialize(json, value, typeInfo);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
