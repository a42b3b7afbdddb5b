namespace Compress.Core.Spec;

/// <summary>The keys and words of a model entry's <c>evaluate</c> block; compress.schema.yaml documents exactly these.</summary>
internal static class EvaluateKeys
{
    public const string Evaluate = "evaluate";

    public const string Data = "data";
    public const string Labels = "labels";
    public const string Output = "output";
    public const string Samples = "samples";
    public const string BatchSize = "batch_size";
    public const string TopK = "top_k";
    public const string Threshold = "threshold";
    public const string MaxAccuracyDrop = "max_accuracy_drop";
    public const string MinAccuracy = "min_accuracy";
    public const string MinAgreement = "min_agreement";
    public const string MinCosine = "min_cosine";
    public const string MinMaskIou = "min_mask_iou";
    public const string MaxAbsError = "max_abs_error";
    public const string MaxMeanAbsError = "max_mean_abs_error";
    public const string MaxRelativeError = "max_relative_error";
    public const string OnFailure = "on_failure";
    public const string MaxExcludedLayers = "max_excluded_layers";
    public const string TuneQuantization = "tune_quantization";

    /// <summary>Every key of the block, in documentation order.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        Data, Labels, Output, Samples, BatchSize, TopK, Threshold, MaxAccuracyDrop, MinAccuracy, MinAgreement, MinCosine,
        MinMaskIou, MaxAbsError, MaxMeanAbsError, MaxRelativeError, OnFailure, MaxExcludedLayers, TuneQuantization,
    ];

    /// <summary>The budget keys: at least one must be given.</summary>
    public static IReadOnlyList<string> BudgetKeys { get; } =
        [MaxAccuracyDrop, MinAccuracy, MinAgreement, MinCosine, MinMaskIou, MaxAbsError, MaxMeanAbsError, MaxRelativeError];

    /// <summary>Spellings of <c>on_failure</c>.</summary>
    public static IReadOnlyList<KeyValuePair<string, EvaluateFailureAction>> FailureActions { get; } =
    [
        new("error", EvaluateFailureAction.Error),
        new("warning", EvaluateFailureAction.Warning),
        new("tune", EvaluateFailureAction.Tune),
    ];
}
