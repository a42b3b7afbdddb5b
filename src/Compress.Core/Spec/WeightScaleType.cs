namespace Compress.Core.Spec;

/// <summary>The element type of weight-only quantization's block scales (spec key <c>scale_type</c>).</summary>
public enum WeightScaleType
{
    /// <summary>float32 scales; MatMulNBits computes in float32 (onnxruntime.quantization's form for a float32 model).</summary>
    Float,

    /// <summary>
    /// float16 scales (half the scale bytes: 4.5 instead of 5 bits per weight at block 32); MatMulNBits then computes in
    /// float16, so its input is cast to float16 and its output back to float32.
    /// </summary>
    Float16,
}
