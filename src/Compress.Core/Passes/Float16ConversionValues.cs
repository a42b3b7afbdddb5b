using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;

namespace Compress.Core.Passes;

/// <summary>
/// float32 → float16 value conversion as the reference's convert_np_to_float16 does: values whose
/// magnitude lies strictly between 0 and min_positive_val become ±min_positive_val, finite values
/// beyond ±max_finite_val become ±max_finite_val, then round to nearest even; 0, ±∞ and NaN are kept.
/// </summary>
public static class Float16ConversionValues
{
    /// <summary>Converts one value; <paramref name="clamped"/> tells whether clamping changed it.</summary>
    public static Half ToFloat16(float value, float minPositive, float maxFinite, out bool clamped)
    {
        float magnitude = MathF.Abs(value);
        clamped = false;
        if (magnitude > 0f && magnitude < minPositive)
        {
            value = MathF.CopySign(minPositive, value);
            clamped = true;
        }
        else if (magnitude > maxFinite && float.IsFinite(value))
        {
            value = MathF.CopySign(maxFinite, value);
            clamped = true;
        }

        return (Half)value;
    }

    /// <summary>
    /// A float16 copy (raw_data) of a FLOAT tensor with the same name and dims; <paramref name="clamped"/>
    /// counts the values clamping changed.
    /// </summary>
    public static TensorProto ToFloat16Tensor(TensorProto tensor, float minPositive, float maxFinite, out int clamped)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (TensorData.TypeOf(tensor) != TensorProto.Types.DataType.Float)
        {
            throw new ArgumentException($"Tensor '{tensor.Name}' is {TensorData.TypeOf(tensor)}, not FLOAT.", nameof(tensor));
        }

        float[] values = TensorData.ReadFloats(tensor);
        var halves = new Half[values.Length];
        clamped = 0;
        for (int i = 0; i < values.Length; i++)
        {
            halves[i] = ToFloat16(values[i], minPositive, maxFinite, out bool c);
            clamped += c ? 1 : 0;
        }

        TensorProto result = TensorData.Create(
            tensor.Name,
            tensor.Dims.ToArray(),
            TensorProto.Types.DataType.Float16,
            System.Runtime.InteropServices.MemoryMarshal.AsBytes(halves.AsSpan()));
        if (tensor.HasDocString)
        {
            result.DocString = tensor.DocString;
        }

        return result;
    }
}
