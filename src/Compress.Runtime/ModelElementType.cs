namespace Compress.Runtime;

/// <summary>Element types of model inputs and outputs (the ONNX tensor element types that .NET can hold).</summary>
public enum ModelElementType
{
    /// <summary>A type this library does not map to a .NET type (for example bfloat16, float8, int4, or a non-tensor value); its data is exposed as raw bytes.</summary>
    Other,

    /// <summary>32-bit float (<see cref="float"/>).</summary>
    Float32,

    /// <summary>64-bit float (<see cref="double"/>).</summary>
    Float64,

    /// <summary>16-bit float (<see cref="Half"/>).</summary>
    Float16,

    /// <summary>Signed 8-bit integer (<see cref="sbyte"/>).</summary>
    Int8,

    /// <summary>Unsigned 8-bit integer (<see cref="byte"/>).</summary>
    UInt8,

    /// <summary>Signed 16-bit integer (<see cref="short"/>).</summary>
    Int16,

    /// <summary>Unsigned 16-bit integer (<see cref="ushort"/>).</summary>
    UInt16,

    /// <summary>Signed 32-bit integer (<see cref="int"/>).</summary>
    Int32,

    /// <summary>Unsigned 32-bit integer (<see cref="uint"/>).</summary>
    UInt32,

    /// <summary>Signed 64-bit integer (<see cref="long"/>).</summary>
    Int64,

    /// <summary>Unsigned 64-bit integer (<see cref="ulong"/>).</summary>
    UInt64,

    /// <summary>Boolean, one byte per value (<see cref="bool"/>).</summary>
    Bool,

    /// <summary>String (<see cref="string"/>); outputs only.</summary>
    String,
}
