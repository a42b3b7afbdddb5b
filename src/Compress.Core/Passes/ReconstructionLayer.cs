namespace Compress.Core.Passes;

/// <summary>One refitted layer: how well it reproduced the original layer's outputs on the calibration data, before and after.</summary>
/// <param name="Node">The node name (or first output).</param>
/// <param name="OpType">Gemm, MatMul or Conv.</param>
/// <param name="Outputs">Output neurons / channels solved.</param>
/// <param name="Inputs">Weights per output (before sparsity).</param>
/// <param name="Rows">Calibration rows used (samples, or sampled positions for Conv).</param>
/// <param name="ErrorBefore">‖Y_pruned − Y_original‖² / ‖Y_original‖² with the pruned weights.</param>
/// <param name="ErrorAfter">The same with the refitted weights.</param>
public sealed record ReconstructionLayer(string Node, string OpType, int Outputs, int Inputs, long Rows, double ErrorBefore, double ErrorAfter);
