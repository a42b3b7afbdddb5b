namespace Compress.Core.Spec;

/// <summary>
/// Integer type of quantized values, named as in onnxruntime.quantization's <c>QuantType</c>.
/// </summary>
public enum QuantType
{
    /// <summary>Signed 8-bit, symmetric around zero by default.</summary>
    QInt8,

    /// <summary>Unsigned 8-bit with a zero point.</summary>
    QUInt8,
}
