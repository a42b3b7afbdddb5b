using System.Text.Json;
using System.Text.Json.Serialization;

namespace Compress.Core.Reports;

/// <summary>The one JSON style of every report Compress writes: indented, snake_case, enums as strings.</summary>
public static class ReportJson
{
    public static JsonSerializerOptions Options { get; } = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };
}
