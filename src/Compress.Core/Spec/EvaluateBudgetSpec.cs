namespace Compress.Core.Spec;

/// <summary>
/// Limits of an <c>evaluate</c> block; null means "not checked". Accuracy values are fractions in [0, 1].
/// Without labels, accuracy is measured against the original model's top-1 predictions, so
/// <see cref="MaxAccuracyDrop"/> limits 1 − agreement.
/// </summary>
public sealed class EvaluateBudgetSpec
{
    /// <summary>Largest allowed drop of top-1 accuracy, absolute (0.01 = one percentage point).</summary>
    public double? MaxAccuracyDrop { get; init; }

    /// <summary>Smallest allowed top-1 accuracy of the compressed model.</summary>
    public double? MinAccuracy { get; init; }

    /// <summary>Smallest allowed fraction of samples whose top-1 class equals the original's.</summary>
    public double? MinAgreement { get; init; }

    /// <summary>Smallest allowed mean (over samples) cosine similarity of outputs with the original's.</summary>
    public double? MinCosine { get; init; }

    /// <summary>Smallest allowed mean (over samples) IoU of the masks "value ≥ threshold" with the original's.</summary>
    public double? MinMaskIou { get; init; }

    /// <summary>Largest allowed absolute difference of any output element from the original's.</summary>
    public double? MaxAbsError { get; init; }

    /// <summary>Largest allowed mean absolute difference of output elements from the original's.</summary>
    public double? MaxMeanAbsError { get; init; }

    /// <summary>Largest allowed relative L2 error ‖compressed − original‖ / ‖original‖ over all samples.</summary>
    public double? MaxRelativeError { get; init; }

    /// <summary>Whether any limit is set.</summary>
    public bool IsEmpty => MaxAccuracyDrop is null && MinAccuracy is null && MinAgreement is null && MinCosine is null && MinMaskIou is null
        && MaxAbsError is null && MaxMeanAbsError is null && MaxRelativeError is null;
}
