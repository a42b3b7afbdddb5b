using Compress.Core.Passes;

namespace Compress.Core.Spec;

/// <summary>
/// Options of a <c>prune</c> pass. <c>method: magnitude</c> takes exactly one of <see cref="Sparsity"/>,
/// <see cref="Threshold"/> or <see cref="Pattern"/> (and <see cref="Scope"/>); <c>method: structured</c> takes
/// <see cref="Ratio"/> (and <see cref="Norm"/>, <see cref="ChannelMultiple"/>, <see cref="Importance"/> with <see cref="DataPaths"/>).
/// </summary>
public sealed class PrunePassSpec : PassSpec
{
    /// <summary>The pass name in YAML.</summary>
    public const string PassKind = "prune";

    /// <summary>Creates a pass; the reader sets the options.</summary>
    public PrunePassSpec()
        : base(PassKind)
    {
    }

    /// <summary>Unstructured magnitude pruning or structured removal of outputs.</summary>
    public PruneMethod Method { get; init; }

    /// <summary>Magnitude: target fraction of zero weights in [0, 1).</summary>
    public double? Sparsity { get; init; }

    /// <summary>Magnitude: zero every weight with |w| ≤ threshold.</summary>
    public double? Threshold { get; init; }

    /// <summary>Magnitude: N:M pattern such as 2:4.</summary>
    public MagnitudePruningPattern? Pattern { get; init; }

    /// <summary>Magnitude with sparsity: per layer or one global ranking. Structured (with activation importance): each layer loses the ratio, or the ratio of all layers' compute goes where it costs least.</summary>
    public MagnitudePruningScope Scope { get; init; } = MagnitudePruningScope.PerLayer;

    /// <summary>Structured: fraction of each layer's outputs removed, in (0, 1).</summary>
    public double? Ratio { get; init; }

    /// <summary>Structured: importance norm of an output's weights.</summary>
    public StructuredPruningNorm Norm { get; init; } = StructuredPruningNorm.L2;

    /// <summary>Structured: kept outputs rounded to a multiple of this (see <see cref="StructuredPruningOptions.ChannelMultiple"/>).</summary>
    public int ChannelMultiple { get; init; } = StructuredPruningOptions.DefaultChannelMultiple;

    /// <summary>Structured: what decides the kept outputs (weight norm, or calibration activations from <see cref="DataPaths"/>).</summary>
    public StructuredPruningImportance Importance { get; init; } = StructuredPruningImportance.Weights;

    /// <summary>Structured with activation importance: full paths of the calibration data, as for <c>reconstruct</c>.</summary>
    public IReadOnlyList<string> DataPaths { get; init; } = [];

    /// <summary>Structured with activation importance: use at most this many samples.</summary>
    public int Samples { get; init; } = ReconstructPassSpec.DefaultSamples;

    /// <summary>The data files, globs expanded, in order.</summary>
    public IReadOnlyList<string> ExpandDataPaths() => [.. DataPaths.SelectMany(p => IO.PathGlob.IsGlob(p) ? IO.PathGlob.Expand(p) : [p])];

    /// <summary>Operators whose weights are pruned.</summary>
    public IReadOnlyList<string> OpTypes { get; init; } = ["Conv", "MatMul", "Gemm"];

    /// <summary>Node-name globs left alone.</summary>
    public IReadOnlyList<string> NodesToExclude { get; init; } = [];
}
