using System.Diagnostics.CodeAnalysis;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;

namespace Compress.Core.Passes;

/// <summary>
/// Finds the constant 2-D float32 weight (input B) of a MatMul or Gemm, wherever it is stored
/// (initializer or Constant node, this graph or an outer one), or says why there is none.
/// </summary>
internal static class MatMulWeightLookup
{
    /// <summary>True when found; otherwise <paramref name="reason"/> says why the weight cannot be rewritten.</summary>
    public static bool TryFind(
        GraphScope scope,
        NodeProto node,
        [NotNullWhen(true)] out ConstantTensor? weight,
        [NotNullWhen(true)] out TensorProto? value,
        [NotNullWhen(false)] out string? reason)
    {
        weight = scope.FindConstant(node.Input[1]);
        value = weight?.Value;
        reason = weight is null ? "weight is not a constant"
            : value is null || TensorData.IsExternal(value) ? "weight value is not available in memory"
            : weight.DataType != TensorProto.Types.DataType.Float ? $"weight type {weight.DataType} is not float32"
            : value.Dims.Count != 2 ? $"weight has rank {value.Dims.Count}; only 2-D weights are quantized"
            : null;
        return reason is null;
    }
}
