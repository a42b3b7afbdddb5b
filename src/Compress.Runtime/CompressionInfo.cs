using System.Globalization;

namespace Compress.Runtime;

/// <summary>
/// What the Compress build recorded in a model's <c>metadata_props</c>: the tool version, the hash of the
/// source model, the passes applied and how many nodes were quantized. Read it from
/// <see cref="CompressedModel.Compression"/>.
/// </summary>
public sealed class CompressionInfo
{
    /// <summary>Metadata key of the Compress version that built the model.</summary>
    public const string VersionKey = "compress.version";

    /// <summary>Metadata key of the SHA-256 (hex) of the source model.</summary>
    public const string SourceSha256Key = "compress.source_sha256";

    /// <summary>Metadata key of the passes applied, comma-separated in order.</summary>
    public const string PassesKey = "compress.passes";

    /// <summary>Metadata key of the number of nodes quantized.</summary>
    public const string NodesQuantizedKey = "compress.nodes_quantized";

    private CompressionInfo(string? version, string? sourceSha256, string[] passes, int? nodesQuantized)
    {
        Version = version;
        SourceSha256 = sourceSha256;
        Passes = passes;
        NodesQuantized = nodesQuantized;
    }

    /// <summary>The Compress version that built the model, or <see langword="null"/> when not recorded.</summary>
    public string? Version { get; }

    /// <summary>The SHA-256 of the source (uncompressed) model in hex, or <see langword="null"/> when not recorded.</summary>
    public string? SourceSha256 { get; }

    /// <summary>The passes applied, in order (for example <c>quantize</c>, <c>prune</c>); empty when not recorded.</summary>
    public IReadOnlyList<string> Passes { get; }

    /// <summary>How many nodes were quantized, or <see langword="null"/> when not recorded or not a number.</summary>
    public int? NodesQuantized { get; }

    /// <summary>
    /// Reads the <c>compress.*</c> entries of a model's metadata.
    /// </summary>
    /// <param name="metadata">The model's <c>metadata_props</c> (see <see cref="CompressedModel.Metadata"/>).</param>
    /// <returns>The recorded information, or <see langword="null"/> when none of the <c>compress.*</c> keys is present (the model was not built by Compress).</returns>
    public static CompressionInfo? FromMetadata(IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        string? version = Value(metadata, VersionKey);
        string? sha = Value(metadata, SourceSha256Key);
        string? passes = Value(metadata, PassesKey);
        string? nodes = Value(metadata, NodesQuantizedKey);
        if (version is null && sha is null && passes is null && nodes is null)
        {
            return null;
        }

        string[] passList = passes is null
            ? []
            : passes.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        int? nodesQuantized = int.TryParse(nodes, NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : null;
        return new CompressionInfo(version, sha, passList, nodesQuantized);
    }

    /// <summary>Describes the information like <c>Compress 0.1.0, passes quantize,prune, 3 nodes quantized, source sha256 9f86d081…</c>.</summary>
    public override string ToString()
    {
        var parts = new List<string>(4) { $"Compress {Version ?? "(version not recorded)"}" };
        if (Passes.Count > 0)
        {
            parts.Add($"passes {string.Join(',', Passes)}");
        }

        if (NodesQuantized is int count)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{count} nodes quantized"));
        }

        if (SourceSha256 is not null)
        {
            parts.Add($"source sha256 {SourceSha256}");
        }

        return string.Join(", ", parts);
    }

    private static string? Value(IReadOnlyDictionary<string, string> metadata, string key) =>
        metadata.TryGetValue(key, out string? value) && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;
}
