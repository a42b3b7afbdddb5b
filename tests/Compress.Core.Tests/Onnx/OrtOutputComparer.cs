using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Microsoft.ML.OnnxRuntime;

namespace Compress.Core.Tests.Onnx;

/// <summary>
/// Compares an ONNX Runtime output with a reference tensor the way onnx's backend runner does:
/// same element type and shape, then numpy.testing.assert_allclose (|actual - expected| &lt;= atol + rtol * |expected|,
/// NaN equals NaN, infinities must match) for floating types; integers, bools and strings must be equal.
/// </summary>
internal static class OrtOutputComparer
{
    /// <summary>Null when they agree, else a one-line description of the first difference.</summary>
    public static string? Compare(TensorProto expected, OrtValue actual, double rtol, double atol)
    {
        if (actual.OnnxType != OnnxValueType.ONNX_TYPE_TENSOR)
        {
            return $"ORT returned a {actual.OnnxType}, expected a tensor";
        }

        TensorProto got = OnnxTensorConverter.ToTensorProto(actual, expected.Name);
        if (got.DataType != expected.DataType)
        {
            return $"element type {(TensorProto.Types.DataType)got.DataType}, expected {(TensorProto.Types.DataType)expected.DataType}";
        }

        if (!got.Dims.SequenceEqual(expected.Dims))
        {
            return $"shape [{string.Join(",", got.Dims)}], expected [{string.Join(",", expected.Dims)}]";
        }

        var type = (TensorProto.Types.DataType)expected.DataType;
        if (type == TensorProto.Types.DataType.String)
        {
            for (int i = 0; i < expected.StringData.Count; i++)
            {
                if (expected.StringData[i] != got.StringData[i])
                {
                    return $"element {i}: \"{got.StringData[i].ToStringUtf8()}\", expected \"{expected.StringData[i].ToStringUtf8()}\"";
                }
            }

            return null;
        }

        byte[] want = TensorElementBytes.Read(expected);
        byte[] have = TensorElementBytes.Read(got);
        double[]? wantValues = AsDoubles(type, want);
        if (wantValues is null)
        {
            int size = TensorData.ElementSize(type);
            for (int i = 0; i < want.Length; i += size)
            {
                if (!want.AsSpan(i, size).SequenceEqual(have.AsSpan(i, size)))
                {
                    return $"element {i / size} differs (bytes {Convert.ToHexString(have, i, size)}, expected {Convert.ToHexString(want, i, size)})";
                }
            }

            return null;
        }

        double[] haveValues = AsDoubles(type, have)!;
        for (int i = 0; i < wantValues.Length; i++)
        {
            double e = wantValues[i];
            double a = haveValues[i];
            bool ok = double.IsNaN(e) ? double.IsNaN(a)
                : double.IsInfinity(e) ? a == e
                : !double.IsNaN(a) && !double.IsInfinity(a) && Math.Abs(a - e) <= atol + (rtol * Math.Abs(e));
            if (!ok)
            {
                return string.Create(CultureInfo.InvariantCulture, $"element {i}: {a:R}, expected {e:R} (rtol {rtol}, atol {atol})");
            }
        }

        return null;
    }

    /// <summary>Floating-point elements widened to double; null for integer and bool types.</summary>
    private static double[]? AsDoubles(TensorProto.Types.DataType type, byte[] bytes) => type switch
    {
        TensorProto.Types.DataType.Float => [.. MemoryMarshal.Cast<byte, float>(bytes).ToArray().Select(v => (double)v)],
        TensorProto.Types.DataType.Double => MemoryMarshal.Cast<byte, double>(bytes).ToArray(),
        TensorProto.Types.DataType.Float16 => [.. MemoryMarshal.Cast<byte, ushort>(bytes).ToArray().Select(b => (double)BitConverter.UInt16BitsToHalf(b))],
        TensorProto.Types.DataType.Bfloat16 => [.. MemoryMarshal.Cast<byte, ushort>(bytes).ToArray().Select(b => (double)BitConverter.Int32BitsToSingle(b << 16))],
        _ => null,
    };

    /// <summary>Short text of a tensor for messages.</summary>
    public static string Describe(TensorProto tensor) =>
        new StringBuilder().Append((TensorProto.Types.DataType)tensor.DataType).Append('[').Append(string.Join(",", tensor.Dims)).Append(']').ToString();
}
