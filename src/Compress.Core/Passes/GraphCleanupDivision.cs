using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;

namespace Compress.Core.Passes;

/// <summary>
/// Rewrites <c>Div(x, c)</c> with a float constant divisor as <c>Mul(x, 1/c)</c>. Div has no int8 kernel
/// in ONNX Runtime, so every hard-swish (<c>x · Clip(x + 3, 0, 6) / 6</c>) would otherwise leave the int8
/// chain (dequantize → float Div → quantize); Mul stays int8 (QLinearMul). The results differ by at most
/// one float32 rounding step.
/// </summary>
internal static class GraphCleanupDivision
{
    public static bool TryRewrite(ModelGraph graph, GraphScope scope, NodeProto div)
    {
        if (div.Input.Count != 2 || div.Output.Count != 1
            || scope.FindConstant(div.Input[1]) is not { DataType: TensorProto.Types.DataType.Float } divisor
            || divisor.Value is not { } value || TensorData.IsExternal(value))
        {
            return false;
        }

        float[] values = TensorData.ReadFloats(value);
        if (values.Any(v => v == 0 || !float.IsFinite(v) || !float.IsNormal(1 / v)))
        {
            return false;
        }

        string name = graph.UniqueName(divisor.Name + "_reciprocal");
        graph.AddConstant(scope, TensorData.CreateFloat(name, [.. value.Dims], [.. values.Select(v => 1 / v)]));
        div.OpType = "Mul";
        div.Input[1] = name;
        return true;
    }
}
