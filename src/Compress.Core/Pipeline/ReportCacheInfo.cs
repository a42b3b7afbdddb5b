using System.Text.Json.Serialization;

namespace Compress.Core.Pipeline;

/// <summary>The <c>cache</c> section of a report: whether the outputs came from a build cache, and under which key.</summary>
/// <param name="Status"><c>hit</c> or <c>miss</c>.</param>
/// <param name="Key">The content hash the outputs are stored under.</param>
/// <param name="CompressedInMs">For hits, how long the original compression took.</param>
public sealed record ReportCacheInfo(
    string Status,
    string Key,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? CompressedInMs = null)
{
    /// <summary>A fresh result that was stored under <paramref name="key"/>.</summary>
    public static ReportCacheInfo Miss(string key) => new("miss", key);
}
