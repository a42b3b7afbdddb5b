namespace Compress.Core.Spec;

/// <summary>
/// Integer type of quantized values, named as in onnxruntime.quantization's <c>QuantType</c>.
/// New members are only ever appended, so stored values keep their meaning.
/// </summary>
public enum QuantType
{
    /// <summary>Signed 8-bit, symmetric around zero by default.</summary>
    QInt8,

    /// <summary>Unsigned 8-bit with a zero point.</summary>
    QUInt8,

    /// <summary>Signed 16-bit; static QDQ only (ORT: "Only QuantFormat.QDQ supports 16-bit quantization types").</summary>
    QInt16,

    /// <summary>Unsigned 16-bit with a zero point; static QDQ only.</summary>
    QUInt16,
}
