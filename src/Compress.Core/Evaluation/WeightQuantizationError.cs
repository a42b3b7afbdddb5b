namespace Compress.Core.Evaluation;

/// <summary>How well one quantized weight tensor represents the float original.</summary>
/// <param name="Tensor">The float weight's name when it was quantized (after BatchNorm folding, e.g. <c>conv2d_0.w_0_bn_folded</c>).</param>
/// <param name="Elements">Elements in the tensor.</param>
/// <param name="SqnrDb">10·log10(Σw² / Σ(w − ŵ)²) with ŵ the dequantized weight; higher is better (int8 is typically 35–50 dB).</param>
/// <param name="Nodes">The nodes quantized with it: the names to give <c>nodes_to_exclude</c> to keep it float.</param>
public sealed record WeightQuantizationError(string Tensor, long Elements, double SqnrDb, IReadOnlyList<string> Nodes);
