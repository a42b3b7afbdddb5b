using Compress.Core.Spec;

namespace Compress.Core.Evaluation;

/// <summary>What a model is evaluated on: input data (formats of calibration data), optional labels and the output to score.</summary>
public sealed class EvaluationData
{
    /// <summary>Input files, folders or globs (full paths), in sample order.</summary>
    public required IReadOnlyList<string> DataPaths { get; init; }

    /// <summary>An int64 .npy of labels, one per sample; null compares with the original model only.</summary>
    public string? LabelsPath { get; init; }

    /// <summary>The output to score; null takes the model's first output.</summary>
    public string? OutputName { get; init; }

    /// <summary>Use only the first this many samples; null uses all.</summary>
    public int? MaxSamples { get; init; }

    /// <summary>Samples per model run.</summary>
    public int BatchSize { get; init; } = EvaluateSpec.DefaultBatchSize;

    /// <summary>k of the top-k accuracy (with labels).</summary>
    public int TopK { get; init; } = EvaluateSpec.DefaultTopK;

    /// <summary>Decision threshold of a one-value (binary) output.</summary>
    public double Threshold { get; init; } = EvaluateSpec.DefaultThreshold;

    /// <summary>Measure the mask IoU of the output (a <c>min_mask_iou</c> budget).</summary>
    public bool MaskIou { get; init; }

    /// <summary>The data of a spec's <c>evaluate</c> block.</summary>
    public static EvaluationData From(EvaluateSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return new EvaluationData
        {
            DataPaths = spec.DataPaths,
            LabelsPath = spec.LabelsPath,
            OutputName = spec.Output,
            MaxSamples = spec.Samples,
            BatchSize = spec.BatchSize,
            TopK = spec.TopK,
            Threshold = spec.Threshold,
            MaskIou = spec.Budget.MinMaskIou is not null,
        };
    }
}
