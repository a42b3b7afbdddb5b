namespace Compress.Core.Spec;

/// <summary>How weight-only quantization stores its block scales (spec key <c>scale_type</c>).</summary>
/// <remarks>
/// The type only decides the bytes in the file: float16 scales are read through one Cast to float32, which ONNX Runtime
/// folds into a float32 initializer when it loads the model, so MatMulNBits computes in float32 either way.
/// </remarks>
public enum WeightScaleType
{
    /// <summary>float16 for each weight whose block scales are all normal float16 values (or 0), float32 for the others.</summary>
    Auto,

    /// <summary>float32 scales read by MatMulNBits directly (onnxruntime.quantization's form for a float32 model).</summary>
    Float,

    /// <summary>float16 scales for every weight (half the scale bytes: 4.5 instead of 5 bits per weight at block 32).</summary>
    Float16,
}
