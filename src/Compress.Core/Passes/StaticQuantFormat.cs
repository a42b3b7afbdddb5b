namespace Compress.Core.Passes;

/// <summary>How statically quantized operators are written, as onnxruntime.quantization's <c>QuantFormat</c>.</summary>
public enum StaticQuantFormat
{
    /// <summary>QuantizeLinear/DequantizeLinear pairs around float operators; ONNX Runtime fuses them into integer kernels.</summary>
    QDQ,

    /// <summary>Integer operators written directly (QLinearConv, QLinearMatMul, com.microsoft QLinearAdd, QGemm…).</summary>
    QOperator,
}
