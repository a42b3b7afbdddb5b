namespace Compress.Core.Spec;

/// <summary>How a static quantize pass writes the quantized graph, as onnxruntime.quantization's <c>QuantFormat</c>.</summary>
public enum QuantFormat
{
    /// <summary>QuantizeLinear/DequantizeLinear pairs around float ops; runtimes fuse them into integer kernels.</summary>
    QDQ,

    /// <summary>Quantized operators such as QLinearConv and QLinearMatMul replace the float ops.</summary>
    QOperator,
}
