namespace Compress.Core.Passes;

/// <summary>Names of one quantized MatMul/Gemm weight: the 8-bit matrix [K,N], its scale and zero point.</summary>
/// <param name="Weight">The quantized matrix.</param>
/// <param name="Scale">Its scale (scalar or [N]).</param>
/// <param name="ZeroPoint">Its zero point (same shape as the scale), or empty when all zero (the operators' default).</param>
/// <param name="Columns">N, the number of output columns.</param>
internal sealed record DynamicQuantizedWeight(string Weight, string Scale, string ZeroPoint, long Columns);
