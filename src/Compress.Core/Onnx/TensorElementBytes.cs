using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Compress.Core.Diagnostics;
using Compress.Core.Onnx.Proto;

namespace Compress.Core.Onnx;

/// <summary>
/// The little-endian element bytes of a fixed-size tensor, whatever field ONNX stored them in
/// (<c>raw_data</c> or the typed repeated fields; see the storage rules in onnx.proto's TensorProto).
/// </summary>
public static class TensorElementBytes
{
    /// <summary>
    /// Returns the tensor's values as little-endian bytes (element count x element size). Throws for
    /// strings, sub-byte types and tensors still stored in external data.
    /// </summary>
    /// <exception cref="CompressException">CMP1002 when the stored values do not match the shape.</exception>
    public static byte[] Read(TensorProto tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (TensorData.IsExternal(tensor))
        {
            throw new InvalidOperationException(
                $"Tensor '{tensor.Name}' is stored in an external file; load the model with OnnxModelFile so its data is read.");
        }

        TensorProto.Types.DataType type = TensorData.TypeOf(tensor);
        int size = TensorData.ElementSize(type);
        if (size == 0)
        {
            throw new CompressException(
                DiagnosticCodes.ModelInvalid,
                $"Tensor '{tensor.Name}' has element type {type}, which has no fixed byte size.");
        }

        long count = TensorData.ElementCount(tensor);
        long byteCount = count * size;
        if (tensor.HasRawData)
        {
            if (tensor.RawData.Length != byteCount)
            {
                throw Mismatch(tensor, $"{tensor.RawData.Length} bytes of raw data", byteCount + " bytes");
            }

            return tensor.RawData.ToByteArray();
        }

        var bytes = new byte[byteCount];
        switch (type)
        {
            case TensorProto.Types.DataType.Float:
            case TensorProto.Types.DataType.Complex64:
                CopyTyped(tensor, tensor.FloatData, count * (size / 4), bytes);
                break;
            case TensorProto.Types.DataType.Double:
            case TensorProto.Types.DataType.Complex128:
                CopyTyped(tensor, tensor.DoubleData, count * (size / 8), bytes);
                break;
            case TensorProto.Types.DataType.Int64:
                CopyTyped(tensor, tensor.Int64Data, count, bytes);
                break;
            case TensorProto.Types.DataType.Uint64:
                CopyTyped(tensor, tensor.Uint64Data, count, bytes);
                break;
            case TensorProto.Types.DataType.Uint32:
                // uint32 values are stored one per uint64_data entry.
                CheckCount(tensor, tensor.Uint64Data.Count, count);
                for (int i = 0; i < count; i++)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i * 4), (uint)tensor.Uint64Data[i]);
                }

                break;
            default:
                // int32, int16, int8, uint16, uint8, bool, float16, bfloat16, float8: one value (or bit pattern) per int32_data entry.
                CheckCount(tensor, tensor.Int32Data.Count, count);
                Span<byte> one = stackalloc byte[4];
                for (int i = 0; i < count; i++)
                {
                    BinaryPrimitives.WriteInt32LittleEndian(one, tensor.Int32Data[i]);
                    one[..size].CopyTo(bytes.AsSpan(i * size, size));
                }

                break;
        }

        return bytes;
    }

    private static void CopyTyped<T>(TensorProto tensor, IList<T> values, long expected, byte[] destination)
        where T : unmanaged
    {
        CheckCount(tensor, values.Count, expected);
        Span<T> target = MemoryMarshal.Cast<byte, T>(destination.AsSpan());
        for (int i = 0; i < values.Count; i++)
        {
            target[i] = values[i];
        }
    }

    private static void CheckCount(TensorProto tensor, int actual, long expected)
    {
        if (actual != expected)
        {
            throw Mismatch(tensor, $"{actual} stored values", expected.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    private static CompressException Mismatch(TensorProto tensor, string actual, string expected) =>
        new(DiagnosticCodes.ModelInvalid, $"Tensor '{tensor.Name}' holds {actual}; its shape and type need {expected}.");
}
