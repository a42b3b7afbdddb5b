using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Compress.Core.Diagnostics;
using Compress.Core.Onnx.Proto;
using Google.Protobuf;

namespace Compress.Core.Onnx;

/// <summary>
/// Conversions between <see cref="TensorProto"/> and spans of numbers. Reads every storage form
/// ONNX allows (raw_data or the typed repeated fields); writes raw_data (little-endian), which is
/// what ONNX Runtime and the ONNX tools write for non-string tensors.
/// </summary>
public static class TensorData
{
    /// <summary>Number of elements the tensor's dims describe (1 for a scalar).</summary>
    public static long ElementCount(TensorProto tensor)
    {
        long count = 1;
        foreach (long d in tensor.Dims)
        {
            count *= d;
        }

        return count;
    }

    /// <summary>Bytes per element for fixed-size types; 0 for strings and sub-byte types.</summary>
    public static int ElementSize(TensorProto.Types.DataType type) => type switch
    {
        TensorProto.Types.DataType.Float or TensorProto.Types.DataType.Int32 or TensorProto.Types.DataType.Uint32 => 4,
        TensorProto.Types.DataType.Double or TensorProto.Types.DataType.Int64 or TensorProto.Types.DataType.Uint64
            or TensorProto.Types.DataType.Complex64 => 8,
        TensorProto.Types.DataType.Complex128 => 16,
        TensorProto.Types.DataType.Int16 or TensorProto.Types.DataType.Uint16 or TensorProto.Types.DataType.Float16
            or TensorProto.Types.DataType.Bfloat16 => 2,
        TensorProto.Types.DataType.Int8 or TensorProto.Types.DataType.Uint8 or TensorProto.Types.DataType.Bool
            or TensorProto.Types.DataType.Float8E4M3Fn or TensorProto.Types.DataType.Float8E4M3Fnuz
            or TensorProto.Types.DataType.Float8E5M2 or TensorProto.Types.DataType.Float8E5M2Fnuz
            or TensorProto.Types.DataType.Float8E8M0 => 1,
        _ => 0,
    };

    public static TensorProto.Types.DataType TypeOf(TensorProto tensor) => (TensorProto.Types.DataType)tensor.DataType;

    /// <summary>True when the tensor's values live in an external file that has not been loaded.</summary>
    public static bool IsExternal(TensorProto tensor) =>
        tensor.HasDataLocation && tensor.DataLocation == TensorProto.Types.DataLocation.External;

    /// <summary>Reads a FLOAT, DOUBLE or FLOAT16 tensor as float32 values.</summary>
    public static float[] ReadFloats(TensorProto tensor)
    {
        EnsureInMemory(tensor);
        long n = ElementCount(tensor);
        var result = new float[n];
        switch (TypeOf(tensor))
        {
            case TensorProto.Types.DataType.Float:
                if (tensor.HasRawData)
                {
                    CopyRaw(tensor, MemoryMarshal.AsBytes(result.AsSpan()));
                }
                else
                {
                    CheckCount(tensor, tensor.FloatData.Count, n);
                    tensor.FloatData.CopyTo(result, 0);
                }

                break;
            case TensorProto.Types.DataType.Double:
                double[] d = ReadDoubles(tensor);
                for (int i = 0; i < d.Length; i++)
                {
                    result[i] = (float)d[i];
                }

                break;
            case TensorProto.Types.DataType.Float16:
                ushort[] bits = ReadSmall<ushort>(tensor, n);
                for (int i = 0; i < bits.Length; i++)
                {
                    result[i] = (float)BitConverter.UInt16BitsToHalf(bits[i]);
                }

                break;
            default:
                throw Unsupported(tensor, "float");
        }

        return result;
    }

    /// <summary>Reads a DOUBLE tensor.</summary>
    public static double[] ReadDoubles(TensorProto tensor)
    {
        EnsureInMemory(tensor);
        if (TypeOf(tensor) != TensorProto.Types.DataType.Double)
        {
            // Without this check a FLOAT tensor's raw bytes would be misread as half as many doubles.
            throw Unsupported(tensor, "double");
        }

        long n = ElementCount(tensor);
        var result = new double[n];
        if (tensor.HasRawData)
        {
            CopyRaw(tensor, MemoryMarshal.AsBytes(result.AsSpan()));
        }
        else
        {
            CheckCount(tensor, tensor.DoubleData.Count, n);
            tensor.DoubleData.CopyTo(result, 0);
        }

        return result;
    }

    /// <summary>Reads an INT64 tensor.</summary>
    public static long[] ReadInt64s(TensorProto tensor)
    {
        EnsureInMemory(tensor);
        long n = ElementCount(tensor);
        var result = new long[n];
        if (TypeOf(tensor) != TensorProto.Types.DataType.Int64)
        {
            int[] ints = ReadInt32s(tensor);
            for (int i = 0; i < ints.Length; i++)
            {
                result[i] = ints[i];
            }

            return result;
        }

        if (tensor.HasRawData)
        {
            CopyRaw(tensor, MemoryMarshal.AsBytes(result.AsSpan()));
        }
        else
        {
            CheckCount(tensor, tensor.Int64Data.Count, n);
            tensor.Int64Data.CopyTo(result, 0);
        }

        return result;
    }

    /// <summary>Reads INT32, INT16, UINT16, INT8, UINT8 or BOOL tensors as int32 values.</summary>
    public static int[] ReadInt32s(TensorProto tensor)
    {
        EnsureInMemory(tensor);
        long n = ElementCount(tensor);
        var result = new int[n];
        switch (TypeOf(tensor))
        {
            case TensorProto.Types.DataType.Int32:
                if (tensor.HasRawData)
                {
                    CopyRaw(tensor, MemoryMarshal.AsBytes(result.AsSpan()));
                    return result;
                }

                break;
            case TensorProto.Types.DataType.Int8:
                if (tensor.HasRawData)
                {
                    Widen(MemoryMarshal.Cast<byte, sbyte>(RawOf(tensor, n)), result);
                    return result;
                }

                break;
            case TensorProto.Types.DataType.Uint8:
            case TensorProto.Types.DataType.Bool:
                if (tensor.HasRawData)
                {
                    Widen(RawOf(tensor, n), result);
                    return result;
                }

                break;
            case TensorProto.Types.DataType.Int16:
                if (tensor.HasRawData)
                {
                    Widen(MemoryMarshal.Cast<byte, short>(RawOf(tensor, n * 2)), result);
                    return result;
                }

                break;
            case TensorProto.Types.DataType.Uint16:
                if (tensor.HasRawData)
                {
                    Widen(MemoryMarshal.Cast<byte, ushort>(RawOf(tensor, n * 2)), result);
                    return result;
                }

                break;
            default:
                throw Unsupported(tensor, "integer");
        }

        // Small integer types stored one value per int32_data entry.
        CheckCount(tensor, tensor.Int32Data.Count, n);
        tensor.Int32Data.CopyTo(result, 0);
        return result;
    }

    public static TensorProto CreateFloat(string name, ReadOnlySpan<long> dims, ReadOnlySpan<float> values) =>
        Create(name, dims, TensorProto.Types.DataType.Float, MemoryMarshal.AsBytes(values));

    /// <summary>A float16 tensor holding <paramref name="values"/> rounded to nearest float16.</summary>
    public static TensorProto CreateFloat16(string name, ReadOnlySpan<long> dims, ReadOnlySpan<float> values)
    {
        var halves = new Half[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            halves[i] = (Half)values[i];
        }

        return Create(name, dims, TensorProto.Types.DataType.Float16, MemoryMarshal.AsBytes(halves.AsSpan()));
    }

    public static TensorProto CreateInt8(string name, ReadOnlySpan<long> dims, ReadOnlySpan<sbyte> values) =>
        Create(name, dims, TensorProto.Types.DataType.Int8, MemoryMarshal.AsBytes(values));

    public static TensorProto CreateUInt8(string name, ReadOnlySpan<long> dims, ReadOnlySpan<byte> values) =>
        Create(name, dims, TensorProto.Types.DataType.Uint8, values);

    public static TensorProto CreateInt32(string name, ReadOnlySpan<long> dims, ReadOnlySpan<int> values) =>
        Create(name, dims, TensorProto.Types.DataType.Int32, MemoryMarshal.AsBytes(values));

    public static TensorProto CreateInt64(string name, ReadOnlySpan<long> dims, ReadOnlySpan<long> values) =>
        Create(name, dims, TensorProto.Types.DataType.Int64, MemoryMarshal.AsBytes(values));

    /// <summary>Creates a tensor from little-endian element bytes.</summary>
    public static TensorProto Create(string name, ReadOnlySpan<long> dims, TensorProto.Types.DataType type, ReadOnlySpan<byte> littleEndianBytes)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("Compress writes tensors on little-endian machines only.");
        }

        var tensor = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(littleEndianBytes) };
        foreach (long d in dims)
        {
            tensor.Dims.Add(d);
        }

        return tensor;
    }

    private static void Widen<T>(ReadOnlySpan<T> source, Span<int> destination)
        where T : unmanaged
    {
        for (int i = 0; i < source.Length; i++)
        {
            destination[i] = Convert.ToInt32(source[i], System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    private static T[] ReadSmall<T>(TensorProto tensor, long n)
        where T : unmanaged
    {
        var result = new T[n];
        if (tensor.HasRawData)
        {
            CopyRaw(tensor, MemoryMarshal.AsBytes(result.AsSpan()));
            return result;
        }

        CheckCount(tensor, tensor.Int32Data.Count, n);
        Span<byte> bytes = MemoryMarshal.AsBytes(result.AsSpan());
        int size = bytes.Length / (int)Math.Max(n, 1);
        Span<byte> one = stackalloc byte[4];
        for (int i = 0; i < n; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(one, tensor.Int32Data[i]);
            one[..size].CopyTo(bytes.Slice(i * size, size));
        }

        return result;
    }

    private static ReadOnlySpan<byte> RawOf(TensorProto tensor, long byteCount)
    {
        ReadOnlySpan<byte> raw = tensor.RawData.Span;
        if (raw.Length != byteCount)
        {
            throw new CompressException(
                DiagnosticCodes.ModelInvalid,
                $"Tensor '{tensor.Name}' has {raw.Length} bytes of raw data; its shape needs {byteCount}.");
        }

        return raw;
    }

    private static void CopyRaw(TensorProto tensor, Span<byte> destination) => RawOf(tensor, destination.Length).CopyTo(destination);

    private static void CheckCount(TensorProto tensor, int actual, long expected)
    {
        if (actual != expected)
        {
            throw new CompressException(
                DiagnosticCodes.ModelInvalid,
                $"Tensor '{tensor.Name}' holds {actual} values; its shape needs {expected}.");
        }
    }

    private static void EnsureInMemory(TensorProto tensor)
    {
        if (IsExternal(tensor))
        {
            throw new InvalidOperationException(
                $"Tensor '{tensor.Name}' is stored in an external file; load the model with OnnxModelFile so its data is read.");
        }
    }

    private static CompressException Unsupported(TensorProto tensor, string wanted) =>
        new(DiagnosticCodes.ModelInvalid, $"Tensor '{tensor.Name}' has element type {TypeOf(tensor)}, which cannot be read as {wanted}.");
}
