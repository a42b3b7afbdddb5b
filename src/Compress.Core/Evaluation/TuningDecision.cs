namespace Compress.Core.Evaluation;

/// <summary>What a successful tuning decided, as stored between builds: the quantization settings chosen, the nodes left as in the original and why.</summary>
/// <param name="KeptAtHigherPrecision">Nodes left as in the original (in float, unpruned), most sensitive first (the order the passes are given them).</param>
/// <param name="LayerSensitivity">The sensitivities measured when the decision was made, most sensitive first.</param>
/// <param name="Quantization">The settings every static quantize pass uses instead of the written ones; null keeps the written ones.</param>
public sealed record TuningDecision(IReadOnlyList<string> KeptAtHigherPrecision, IReadOnlyList<LayerSensitivity> LayerSensitivity, QuantizationChoice? Quantization = null);
