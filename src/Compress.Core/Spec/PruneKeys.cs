using Compress.Core.Passes;

namespace Compress.Core.Spec;

/// <summary>The keys and spellings of the <c>prune</c> and <c>reconstruct</c> passes and of the model-entry keys <c>pack</c> and <c>storage</c>.</summary>
internal static class PruneKeys
{
    public const string Method = "method";
    public const string Sparsity = "sparsity";
    public const string Threshold = "threshold";
    public const string Pattern = "pattern";
    public const string Scope = "scope";
    public const string Ratio = "ratio";
    public const string Norm = "norm";
    public const string ChannelMultiple = "channel_multiple";
    public const string Importance = "importance";
    public const string OpTypes = "op_types";
    public const string NodesToExclude = "nodes_to_exclude";

    public const string Data = "data";
    public const string Samples = "samples";
    public const string BatchSize = "batch_size";
    public const string Damping = "damping";

    public const string Pack = "pack";
    public const string Storage = "storage";

    public static IReadOnlyList<string> PruneOptions { get; } = [Method, Sparsity, Threshold, Pattern, Scope, Ratio, Norm, ChannelMultiple, Importance, Data, Samples, OpTypes, NodesToExclude];

    /// <summary>Prune keys that belong to one method only.</summary>
    public static IReadOnlyDictionary<string, PruneMethod> MethodOnlyKeys { get; } = new Dictionary<string, PruneMethod>(StringComparer.Ordinal)
    {
        [Sparsity] = PruneMethod.Magnitude,
        [Threshold] = PruneMethod.Magnitude,
        [Pattern] = PruneMethod.Magnitude,
        [Ratio] = PruneMethod.Structured,
        [Norm] = PruneMethod.Structured,
        [ChannelMultiple] = PruneMethod.Structured,
    };

    public static IReadOnlyList<string> ReconstructOptions { get; } = [Data, Samples, BatchSize, Damping, NodesToExclude];

    public static IReadOnlyList<KeyValuePair<string, PruneMethod>> Methods { get; } = [new("magnitude", PruneMethod.Magnitude), new("structured", PruneMethod.Structured)];

    public static IReadOnlyList<KeyValuePair<string, MagnitudePruningScope>> Scopes { get; } = [new("per_layer", MagnitudePruningScope.PerLayer), new("global", MagnitudePruningScope.Global)];

    public static IReadOnlyList<KeyValuePair<string, StructuredPruningNorm>> Norms { get; } = [new("l1", StructuredPruningNorm.L1), new("l2", StructuredPruningNorm.L2)];

    public static IReadOnlyList<KeyValuePair<string, StructuredPruningImportance>> Importances { get; } = [new("weights", StructuredPruningImportance.Weights), new("activations", StructuredPruningImportance.Activations)];

    public static IReadOnlyList<KeyValuePair<string, Packing.PackFormat>> PackFormats { get; } = [new("none", Packing.PackFormat.None), new("brotli", Packing.PackFormat.Brotli)];

    public static IReadOnlyList<KeyValuePair<string, Onnx.InitializerStorage>> Storages { get; } = [new("dense", Onnx.InitializerStorage.Dense), new("sparse", Onnx.InitializerStorage.Sparse)];
}
