using System.Buffers.Binary;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Spec;

namespace Compress.Core.Passes.Qdq;

/// <summary>
/// How each <see cref="QuantType"/> is stored and which QuantizeLinear/DequantizeLinear reads it:
/// 8-bit types in one byte with ONNX's own Q/DQ; 16-bit types in two little-endian bytes with ORT's
/// <c>com.microsoft</c> Q/DQ, since ai.onnx Q/DQ accept 16-bit only from opset 21 (ORT's quantizer
/// switches to the contrib ops for 16-bit types the same way).
/// </summary>
internal static class QuantTypeEncoding
{
    public static bool IsSixteenBit(QuantType type) => type is QuantType.QInt16 or QuantType.QUInt16;

    public static int ElementBytes(QuantType type) => IsSixteenBit(type) ? 2 : 1;

    /// <summary>The domain of the Q/DQ nodes that read or write <paramref name="type"/>.</summary>
    public static string QdqDomain(QuantType type) => IsSixteenBit(type) ? ModelGraph.MicrosoftDomain : ModelGraph.DefaultDomain;

    public static TensorProto.Types.DataType DataType(QuantType type) => type switch
    {
        QuantType.QInt8 => TensorProto.Types.DataType.Int8,
        QuantType.QUInt8 => TensorProto.Types.DataType.Uint8,
        QuantType.QInt16 => TensorProto.Types.DataType.Int16,
        QuantType.QUInt16 => TensorProto.Types.DataType.Uint16,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>Stores the integer <paramref name="q"/> (already clamped to the type's range) as element <paramref name="index"/>.</summary>
    public static void Write(Span<byte> data, int index, int q, QuantType type)
    {
        if (IsSixteenBit(type))
        {
            BinaryPrimitives.WriteUInt16LittleEndian(data[(index * 2)..], unchecked((ushort)q));
        }
        else
        {
            data[index] = unchecked((byte)q);
        }
    }

    /// <summary>The integer stored as element <paramref name="index"/>.</summary>
    public static int Read(ReadOnlySpan<byte> data, int index, QuantType type) => type switch
    {
        QuantType.QInt8 => unchecked((sbyte)data[index]),
        QuantType.QUInt8 => data[index],
        QuantType.QInt16 => BinaryPrimitives.ReadInt16LittleEndian(data[(index * 2)..]),
        _ => BinaryPrimitives.ReadUInt16LittleEndian(data[(index * 2)..]),
    };

    /// <summary>A tensor of integers of <paramref name="type"/>.</summary>
    public static TensorProto Tensor(string name, long[] dims, QuantType type, IReadOnlyList<int> values)
    {
        var data = new byte[values.Count * ElementBytes(type)];
        for (int i = 0; i < values.Count; i++)
        {
            Write(data, i, values[i], type);
        }

        return TensorData.Create(name, dims, DataType(type), data);
    }
}
