using System.Buffers.Binary;
using Compress.Runtime.Data;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Compress.Core.Calibration;

/// <summary>
/// Element types of calibration data and the conversions to a model input's type: float inputs take
/// any numeric data, integer inputs take integer data, bool inputs take bool data.
/// </summary>
internal static class ElementConversion
{
    private static readonly TensorElementType[] FloatTypes = [TensorElementType.Float, TensorElementType.Float16, TensorElementType.Double];

    private static readonly TensorElementType[] IntegerTypes =
    [
        TensorElementType.Int8, TensorElementType.Int16, TensorElementType.Int32, TensorElementType.Int64,
        TensorElementType.UInt8, TensorElementType.UInt16, TensorElementType.UInt32, TensorElementType.UInt64,
    ];

    public static TensorElementType FromNpy(NpyElementType type) => type switch
    {
        NpyElementType.Float32 => TensorElementType.Float,
        NpyElementType.Float64 => TensorElementType.Double,
        NpyElementType.Float16 => TensorElementType.Float16,
        NpyElementType.Int8 => TensorElementType.Int8,
        NpyElementType.UInt8 => TensorElementType.UInt8,
        NpyElementType.Int16 => TensorElementType.Int16,
        NpyElementType.UInt16 => TensorElementType.UInt16,
        NpyElementType.Int32 => TensorElementType.Int32,
        NpyElementType.UInt32 => TensorElementType.UInt32,
        NpyElementType.Int64 => TensorElementType.Int64,
        NpyElementType.UInt64 => TensorElementType.UInt64,
        NpyElementType.Bool => TensorElementType.Bool,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>Size of one element, or 0 for types calibration data cannot hold (strings, 4-bit, ...).</summary>
    public static int SizeOf(TensorElementType type) => type switch
    {
        TensorElementType.Double or TensorElementType.Int64 or TensorElementType.UInt64 => 8,
        TensorElementType.Float or TensorElementType.Int32 or TensorElementType.UInt32 => 4,
        TensorElementType.Float16 or TensorElementType.BFloat16 or TensorElementType.Int16 or TensorElementType.UInt16 => 2,
        TensorElementType.Int8 or TensorElementType.UInt8 or TensorElementType.Bool => 1,
        _ => 0,
    };

    /// <summary>The data types a model input of type <paramref name="target"/> accepts.</summary>
    public static IReadOnlyList<TensorElementType> AcceptedBy(TensorElementType target)
    {
        if (IsFloat(target))
        {
            return [.. FloatTypes, .. IntegerTypes];
        }

        if (IsInteger(target))
        {
            return IntegerTypes;
        }

        return SizeOf(target) == 0 ? [] : [target];
    }

    public static bool CanConvert(TensorElementType from, TensorElementType to) => from == to ? SizeOf(from) > 0 : AcceptedBy(to).Contains(from);

    /// <summary>The lower-case ONNX/NumPy-style name of a type, for messages.</summary>
    public static string Name(TensorElementType type) => type switch
    {
        TensorElementType.Float => "float32",
        TensorElementType.Double => "float64",
        TensorElementType.Float16 => "float16",
        TensorElementType.BFloat16 => "bfloat16",
        _ => type.ToString().ToLowerInvariant(),
    };

    /// <summary>Converts <paramref name="count"/> little-endian elements from one type to another.</summary>
    public static void Convert(ReadOnlySpan<byte> source, TensorElementType from, Span<byte> destination, TensorElementType to, int count)
    {
        int fromSize = SizeOf(from);
        int toSize = SizeOf(to);
        if (from == to)
        {
            source[..(count * fromSize)].CopyTo(destination);
            return;
        }

        bool integerTarget = IsInteger(to);
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> s = source.Slice(i * fromSize, fromSize);
            Span<byte> d = destination.Slice(i * toSize, toSize);
            if (integerTarget)
            {
                WriteInteger(d, to, ReadInteger(s, from));
            }
            else
            {
                WriteFloat(d, to, ReadFloat(s, from));
            }
        }
    }

    private static bool IsFloat(TensorElementType type) => FloatTypes.Contains(type);

    private static bool IsInteger(TensorElementType type) => IntegerTypes.Contains(type);

    private static long ReadInteger(ReadOnlySpan<byte> s, TensorElementType type) => type switch
    {
        TensorElementType.Int8 => (sbyte)s[0],
        TensorElementType.UInt8 or TensorElementType.Bool => s[0],
        TensorElementType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(s),
        TensorElementType.UInt16 => BinaryPrimitives.ReadUInt16LittleEndian(s),
        TensorElementType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(s),
        TensorElementType.UInt32 => BinaryPrimitives.ReadUInt32LittleEndian(s),
        TensorElementType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(s),
        TensorElementType.UInt64 => unchecked((long)BinaryPrimitives.ReadUInt64LittleEndian(s)),
        _ => throw new InvalidOperationException($"{type} is not an integer type."),
    };

    private static double ReadFloat(ReadOnlySpan<byte> s, TensorElementType type) => type switch
    {
        TensorElementType.Float => BinaryPrimitives.ReadSingleLittleEndian(s),
        TensorElementType.Double => BinaryPrimitives.ReadDoubleLittleEndian(s),
        TensorElementType.Float16 => (double)BinaryPrimitives.ReadHalfLittleEndian(s),
        TensorElementType.UInt64 => BinaryPrimitives.ReadUInt64LittleEndian(s),
        _ => ReadInteger(s, type),
    };

    private static void WriteInteger(Span<byte> d, TensorElementType type, long value)
    {
        switch (type)
        {
            case TensorElementType.Int8 or TensorElementType.UInt8:
                d[0] = unchecked((byte)value);
                break;
            case TensorElementType.Int16 or TensorElementType.UInt16:
                BinaryPrimitives.WriteInt16LittleEndian(d, unchecked((short)value));
                break;
            case TensorElementType.Int32 or TensorElementType.UInt32:
                BinaryPrimitives.WriteInt32LittleEndian(d, unchecked((int)value));
                break;
            default:
                BinaryPrimitives.WriteInt64LittleEndian(d, value);
                break;
        }
    }

    private static void WriteFloat(Span<byte> d, TensorElementType type, double value)
    {
        switch (type)
        {
            case TensorElementType.Float:
                BinaryPrimitives.WriteSingleLittleEndian(d, (float)value);
                break;
            case TensorElementType.Double:
                BinaryPrimitives.WriteDoubleLittleEndian(d, value);
                break;
            default:
                BinaryPrimitives.WriteHalfLittleEndian(d, (Half)value);
                break;
        }
    }
}
