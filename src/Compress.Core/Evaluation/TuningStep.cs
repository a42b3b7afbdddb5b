namespace Compress.Core.Evaluation;

/// <summary>
/// One step of accuracy tuning: the passes re-run from the original with these nodes left as in the original (in float,
/// unpruned). Settings steps (with <c>tune_quantization</c>) come first and try other quantization settings with no node
/// kept; search steps add one node to the kept set; trim steps, once the budget holds, compress one of them again.
/// </summary>
/// <param name="Step">1 for the first step.</param>
/// <param name="Excluded">Every node left as in the original in this step: the kept ones of earlier steps plus this step's.</param>
/// <param name="Metric">The compressed model's metrics in this step.</param>
/// <param name="AccuracyDrop">Top-1 accuracy lost (1 − agreement without labels); null for non-classification outputs.</param>
/// <param name="Passed">Whether the budget holds.</param>
/// <param name="Kept">
/// Settings step: whether its settings were chosen for the following steps (the ones closest to the budget, if closer
/// than the written ones). Search step: whether its new node stays as in the original for the following steps (it
/// brought the model closer to the budget or, on a tie, lowered the relative error). Trim step: whether
/// <paramref name="Requantized"/> stays compressed (the budget still holds without it).
/// </param>
/// <param name="Requantized">Trim steps only: the node quantized or pruned again in this step, absent from <paramref name="Excluded"/> (the name predates pruning).</param>
/// <param name="Quantization">Settings steps only: the static quantization settings tried, as "percentile, asymmetric, per-channel".</param>
public sealed record TuningStep(int Step, IReadOnlyList<string> Excluded, EvaluationMetrics Metric, double? AccuracyDrop, bool Passed, bool Kept, string? Requantized = null, string? Quantization = null);
