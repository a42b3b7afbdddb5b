using System.Text.Json.Serialization;

namespace Compress.Core.Evaluation;

/// <summary>
/// Metrics of one model on the evaluation data. Accuracy values need labels; agreement and the error metrics
/// compare with the original model (the original has agreement 1, cosine 1 and zero errors by definition).
/// </summary>
public sealed record EvaluationMetrics
{
    /// <summary>Top-1 accuracy against the labels; null without labels or for a non-classification output.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? Accuracy { get; init; }

    /// <summary>Top-k accuracy against the labels (k in <see cref="EvaluationResult.TopK"/>); null without labels.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? TopKAccuracy { get; init; }

    /// <summary>Fraction of samples whose top-1 class equals the original's; null for a non-classification output.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? Agreement { get; init; }

    /// <summary>
    /// Mean over samples of the intersection over union of the masks "value ≥ threshold" of the output and the
    /// original's (a detector's text or object map); null unless a <c>min_mask_iou</c> budget asks for it.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? MaskIou { get; init; }

    /// <summary>
    /// The lowest per-sample mask IoU: the worst page or image, which a mean over many can hide; null unless
    /// <see cref="MaskIou"/> is measured.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? MaskIouMin { get; init; }

    /// <summary>Mean over samples of the cosine similarity of the output with the original's.</summary>
    public double Cosine { get; init; }

    /// <summary>Largest absolute difference of an output element from the original's.</summary>
    public double MaxAbsError { get; init; }

    /// <summary>Mean absolute difference of output elements from the original's.</summary>
    public double MeanAbsError { get; init; }

    /// <summary>‖output − original‖₂ / ‖original‖₂ over all samples (0 when equal).</summary>
    public double RelativeError { get; init; }
}
