namespace Compress.Core.Spec;

/// <summary>
/// The <c>evaluate</c> block of a model entry: data to run the original and the compressed model on, optional
/// labels, the output to score and the accuracy budget the compressed model must meet.
/// </summary>
public sealed class EvaluateSpec
{
    /// <summary>Default of <see cref="BatchSize"/>.</summary>
    public const int DefaultBatchSize = 64;

    /// <summary>Default of <see cref="TopK"/>.</summary>
    public const int DefaultTopK = 5;

    /// <summary>Default of <see cref="Threshold"/>.</summary>
    public const double DefaultThreshold = 0.5;

    /// <summary>Full paths of the input data, in the formats of calibration data (.npy, .npz, folders of .pb, globs).</summary>
    public required IReadOnlyList<string> DataPaths { get; init; }

    /// <summary>Full path of an int64 .npy of class labels, one per sample; null compares with the original's predictions.</summary>
    public string? LabelsPath { get; init; }

    /// <summary>The model output to score; null scores the first output.</summary>
    public string? Output { get; init; }

    /// <summary>Use at most this many samples (the first ones); null uses all.</summary>
    public int? Samples { get; init; }

    /// <summary>Samples per run of a model.</summary>
    public int BatchSize { get; init; } = DefaultBatchSize;

    /// <summary>k of the top-k accuracy reported with labels.</summary>
    public int TopK { get; init; } = DefaultTopK;

    /// <summary>A one-value output (a probability, [N, 1]) predicts class 1 when it is at least this.</summary>
    public double Threshold { get; init; } = DefaultThreshold;

    /// <summary>The budget; every limit that is set must hold.</summary>
    public EvaluateBudgetSpec Budget { get; init; } = new();

    /// <summary>What a missed budget does.</summary>
    public EvaluateFailureAction OnFailure { get; init; } = EvaluateFailureAction.Error;

    /// <summary>Tune: at most this many layers are left as in the original; null allows every candidate layer.</summary>
    public int? MaxExcludedLayers { get; init; }

    /// <summary>
    /// Tune: first try the other calibration methods, range symmetries and weight granularities on the static quantize
    /// passes, and keep the best before leaving any layer as in the original.
    /// </summary>
    public bool TuneQuantization { get; init; }

    /// <summary>Where the <c>evaluate</c> key stands in the spec file.</summary>
    public SourceLocation Location { get; init; } = SourceLocation.Unknown;
}
