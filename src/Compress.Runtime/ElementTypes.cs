using Microsoft.ML.OnnxRuntime.Tensors;

namespace Compress.Runtime;

/// <summary>Maps between <see cref="ModelElementType"/>, ONNX Runtime's element types and .NET types.</summary>
internal static class ElementTypes
{
    public static ModelElementType FromOrt(TensorElementType type) => type switch
    {
        TensorElementType.Float => ModelElementType.Float32,
        TensorElementType.Double => ModelElementType.Float64,
        TensorElementType.Float16 => ModelElementType.Float16,
        TensorElementType.Int8 => ModelElementType.Int8,
        TensorElementType.UInt8 => ModelElementType.UInt8,
        TensorElementType.Int16 => ModelElementType.Int16,
        TensorElementType.UInt16 => ModelElementType.UInt16,
        TensorElementType.Int32 => ModelElementType.Int32,
        TensorElementType.UInt32 => ModelElementType.UInt32,
        TensorElementType.Int64 => ModelElementType.Int64,
        TensorElementType.UInt64 => ModelElementType.UInt64,
        TensorElementType.Bool => ModelElementType.Bool,
        TensorElementType.String => ModelElementType.String,
        _ => ModelElementType.Other,
    };

    public static TensorElementType ToOrt(ModelElementType type) => type switch
    {
        ModelElementType.Float32 => TensorElementType.Float,
        ModelElementType.Float64 => TensorElementType.Double,
        ModelElementType.Float16 => TensorElementType.Float16,
        ModelElementType.Int8 => TensorElementType.Int8,
        ModelElementType.UInt8 => TensorElementType.UInt8,
        ModelElementType.Int16 => TensorElementType.Int16,
        ModelElementType.UInt16 => TensorElementType.UInt16,
        ModelElementType.Int32 => TensorElementType.Int32,
        ModelElementType.UInt32 => TensorElementType.UInt32,
        ModelElementType.Int64 => TensorElementType.Int64,
        ModelElementType.UInt64 => TensorElementType.UInt64,
        ModelElementType.Bool => TensorElementType.Bool,
        ModelElementType.String => TensorElementType.String,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "No ONNX Runtime element type for this type."),
    };

    /// <summary>The element type for a .NET type, or <see langword="null"/> when ONNX has none.</summary>
    public static ModelElementType? FromClr(Type type) =>
        type == typeof(float) ? ModelElementType.Float32
        : type == typeof(double) ? ModelElementType.Float64
        : type == typeof(Half) ? ModelElementType.Float16
        : type == typeof(sbyte) ? ModelElementType.Int8
        : type == typeof(byte) ? ModelElementType.UInt8
        : type == typeof(short) ? ModelElementType.Int16
        : type == typeof(ushort) ? ModelElementType.UInt16
        : type == typeof(int) ? ModelElementType.Int32
        : type == typeof(uint) ? ModelElementType.UInt32
        : type == typeof(long) ? ModelElementType.Int64
        : type == typeof(ulong) ? ModelElementType.UInt64
        : type == typeof(bool) ? ModelElementType.Bool
        : type == typeof(string) ? ModelElementType.String
        : null;

    /// <summary>The .NET type that holds elements of the given type (raw bytes for <see cref="ModelElementType.Other"/>).</summary>
    public static Type ToClr(ModelElementType type) => type switch
    {
        ModelElementType.Float32 => typeof(float),
        ModelElementType.Float64 => typeof(double),
        ModelElementType.Float16 => typeof(Half),
        ModelElementType.Int8 => typeof(sbyte),
        ModelElementType.UInt8 => typeof(byte),
        ModelElementType.Int16 => typeof(short),
        ModelElementType.UInt16 => typeof(ushort),
        ModelElementType.Int32 => typeof(int),
        ModelElementType.UInt32 => typeof(uint),
        ModelElementType.Int64 => typeof(long),
        ModelElementType.UInt64 => typeof(ulong),
        ModelElementType.Bool => typeof(bool),
        ModelElementType.String => typeof(string),
        _ => typeof(byte),
    };
}
