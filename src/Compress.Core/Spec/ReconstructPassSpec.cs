using Compress.Core.IO;

namespace Compress.Core.Spec;

/// <summary>
/// Options of a <c>reconstruct</c> pass: refit the layers pruned by earlier <c>prune</c> passes so they reproduce
/// the original model's layer outputs on the given data.
/// </summary>
public sealed class ReconstructPassSpec : PassSpec
{
    /// <summary>The pass name in YAML.</summary>
    public const string PassKind = "reconstruct";

    /// <summary>Default of <see cref="Samples"/>.</summary>
    public const int DefaultSamples = 512;

    /// <summary>Default of <see cref="BatchSize"/>.</summary>
    public const int DefaultBatchSize = 32;

    /// <summary>Default of <see cref="Damping"/>.</summary>
    public const double DefaultDamping = 0.01;

    /// <summary>Creates a pass; the reader sets the options.</summary>
    public ReconstructPassSpec()
        : base(PassKind)
    {
    }

    /// <summary>Full paths of the data (.npy, .npz, folders of input_N.pb, globs kept as globs), as for calibration.</summary>
    public required IReadOnlyList<string> DataPaths { get; init; }

    /// <summary>Use at most this many samples.</summary>
    public int Samples { get; init; } = DefaultSamples;

    /// <summary>Samples per model run.</summary>
    public int BatchSize { get; init; } = DefaultBatchSize;

    /// <summary>Ridge strength relative to the mean diagonal of XᵀX (towards the pruned weights).</summary>
    public double Damping { get; init; } = DefaultDamping;

    /// <summary>Node-name globs not refitted.</summary>
    public IReadOnlyList<string> NodesToExclude { get; init; } = [];

    /// <summary>The data files, globs expanded, in order.</summary>
    public IReadOnlyList<string> ExpandDataPaths() => [.. DataPaths.SelectMany(p => PathGlob.IsGlob(p) ? PathGlob.Expand(p) : [p])];
}
