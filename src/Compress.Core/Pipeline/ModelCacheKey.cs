using Compress.Core.Spec;

namespace Compress.Core.Pipeline;

/// <summary>
/// The content hash that names a cache entry: SHA-256 over the engine's identity (tool version and the
/// build of Compress.Core, so a changed engine never reuses old results), the canonical model entry
/// (<see cref="SpecFingerprint"/>) and the bytes of every input file (<see cref="ModelInputFiles"/>).
/// </summary>
public static class ModelCacheKey
{
    // Bumped when the layout of cache entries or the key's recipe changes.
    private const string Recipe = "compress-cache-v1";

    /// <summary>Identifies the engine: version plus the module id of this build of Compress.Core.</summary>
    public static string EngineIdentity { get; } =
        CompressPipeline.ToolVersion + "+" + typeof(ModelCacheKey).Assembly.ManifestModule.ModuleVersionId.ToString("N");

    /// <summary>The key (64 lowercase hex digits) of <paramref name="model"/> whose input files are <paramref name="inputFiles"/>.</summary>
    public static string Compute(ModelSpec model, IReadOnlyList<string> inputFiles)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputFiles);
        using var hash = new ContentHash();
        hash.AppendLine(Recipe);
        hash.AppendLine(EngineIdentity);
        hash.AppendLine(SpecFingerprint.Of(model));
        hash.AppendFiles(inputFiles);
        return hash.Finish();
    }
}
