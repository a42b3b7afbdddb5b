namespace Compress.Core.Evaluation;

/// <summary>How well one quantized weight tensor represents the float original.</summary>
/// <param name="Tensor">The original weight's name.</param>
/// <param name="Elements">Elements in the tensor.</param>
/// <param name="SqnrDb">10·log10(Σw² / Σ(w − ŵ)²) with ŵ the dequantized weight; higher is better (int8 is typically 35–50 dB).</param>
public sealed record WeightQuantizationError(string Tensor, long Elements, double SqnrDb);
