namespace Compress.Core.Evaluation;

/// <summary>How far one intermediate tensor of the compressed model drifts from the float original's.</summary>
/// <param name="Tensor">The tensor's name (the same in both models).</param>
/// <param name="Producer">Op type of the node producing it in the original model.</param>
/// <param name="SqnrDb">10·log10(Σx² / Σ(x − x̂)²) over the samples; higher is better, lowest first in reports.</param>
/// <param name="Node">Name of that node (what <c>nodes_to_exclude</c> takes); empty when it has none.</param>
public sealed record ActivationQuantizationError(string Tensor, string Producer, double SqnrDb, string Node);
