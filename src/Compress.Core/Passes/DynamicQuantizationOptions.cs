using Compress.Core.Spec;

namespace Compress.Core.Passes;

/// <summary>
/// Options of <see cref="DynamicQuantization"/>, named after onnxruntime.quantization.quantize_dynamic.
/// </summary>
public sealed class DynamicQuantizationOptions
{
    /// <summary>One scale (and zero point) per output channel instead of one per weight.</summary>
    public bool PerChannel { get; init; }

    /// <summary>Quantize weights to 7 bits (int8 [-64,63] / uint8 [0,127]) for CPUs without VNNI.</summary>
    public bool ReduceRange { get; init; }

    /// <summary>Weight integer type: QInt8 (symmetric, zero point 0) or QUInt8 (asymmetric).</summary>
    public QuantType WeightType { get; init; } = QuantType.QInt8;

    /// <summary>Operators to quantize (MatMul and/or Gemm).</summary>
    public IReadOnlyList<string> OpTypesToQuantize { get; init; } = ["MatMul", "Gemm"];

    /// <summary>Node names to quantize; empty means every node of a selected type.</summary>
    public IReadOnlyList<string> NodesToQuantize { get; init; } = [];

    /// <summary>Node-name globs (<c>*</c>, <c>?</c>) of nodes to leave in float.</summary>
    public IReadOnlyList<string> NodesToExclude { get; init; } = [];

    /// <summary>Which graph form to emit; <see cref="DynamicQuantizationForm.Auto"/> unless experimenting.</summary>
    internal DynamicQuantizationForm Form { get; init; } = DynamicQuantizationForm.Auto;
}
