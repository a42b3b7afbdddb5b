namespace Compress.Runtime.Data;

/// <summary>Element types of NumPy arrays that Compress reads (little-endian or byte-sized).</summary>
public enum NpyElementType
{
    /// <summary>float32 (<c>&lt;f4</c>).</summary>
    Float32,

    /// <summary>float64 (<c>&lt;f8</c>).</summary>
    Float64,

    /// <summary>float16 (<c>&lt;f2</c>).</summary>
    Float16,

    /// <summary>int8 (<c>|i1</c>).</summary>
    Int8,

    /// <summary>uint8 (<c>|u1</c>).</summary>
    UInt8,

    /// <summary>int16 (<c>&lt;i2</c>).</summary>
    Int16,

    /// <summary>uint16 (<c>&lt;u2</c>).</summary>
    UInt16,

    /// <summary>int32 (<c>&lt;i4</c>).</summary>
    Int32,

    /// <summary>uint32 (<c>&lt;u4</c>).</summary>
    UInt32,

    /// <summary>int64 (<c>&lt;i8</c>).</summary>
    Int64,

    /// <summary>uint64 (<c>&lt;u8</c>).</summary>
    UInt64,

    /// <summary>bool (<c>|b1</c>), one byte per value.</summary>
    Bool,
}
