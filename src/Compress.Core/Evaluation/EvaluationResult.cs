namespace Compress.Core.Evaluation;

/// <summary>The original and the compressed model measured on the same evaluation data.</summary>
public sealed record EvaluationResult
{
    /// <summary>The scored output.</summary>
    public required string Output { get; init; }

    /// <summary>Samples evaluated.</summary>
    public int Samples { get; init; }

    /// <summary>Whether labels were given (else accuracy is measured against the original's predictions).</summary>
    public bool HasLabels { get; init; }

    /// <summary>Classes of a [N, classes] output; null for other outputs (then only the comparison metrics apply).</summary>
    public int? Classes { get; init; }

    /// <summary>k of <see cref="EvaluationMetrics.TopKAccuracy"/> (capped by the class count).</summary>
    public int TopK { get; init; }

    /// <summary>The original model.</summary>
    public required EvaluationMetrics Before { get; init; }

    /// <summary>The compressed model.</summary>
    public required EvaluationMetrics After { get; init; }

    /// <summary>
    /// Top-1 accuracy lost, absolute: before − after with labels, 1 − agreement without (counted in samples, so
    /// exact); null for a non-classification output.
    /// </summary>
    public double? AccuracyDrop { get; init; }
}
