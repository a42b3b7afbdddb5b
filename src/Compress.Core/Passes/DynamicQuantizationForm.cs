namespace Compress.Core.Passes;

/// <summary>The node pattern <see cref="DynamicQuantization"/> writes for a quantized MatMul/Gemm.</summary>
internal enum DynamicQuantizationForm
{
    /// <summary>The pass decides (see <see cref="DynamicQuantization"/>).</summary>
    Auto,

    /// <summary>Standard ONNX ops: DynamicQuantizeLinear → MatMulInteger → Cast → Mul [→ Add].</summary>
    Standard,

    /// <summary>ONNX Runtime's contrib op com.microsoft DynamicQuantizeMatMul.</summary>
    Contrib,
}
