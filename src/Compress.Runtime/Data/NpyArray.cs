using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace Compress.Runtime.Data;

/// <summary>
/// A NumPy array read from a <c>.npy</c> file (format versions 1.0–3.0, C order, little-endian).
/// Compress's data convention: samples along axis 0 for one model input; several inputs in an
/// <c>.npz</c> (see <see cref="NpzArchive"/>).
/// </summary>
public sealed partial class NpyArray
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];
    private readonly byte[] _data;

    private NpyArray(string name, NpyElementType elementType, long[] shape, byte[] data)
    {
        Name = name;
        ElementType = elementType;
        Shape = shape;
        _data = data;
    }

    /// <summary>The file or archive entry the array came from (for messages).</summary>
    public string Name { get; }

    /// <summary>Element type of the array.</summary>
    public NpyElementType ElementType { get; }

    /// <summary>Dimensions; empty for a 0-d (scalar) array.</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>Total number of elements (1 for a 0-d array).</summary>
    public long ElementCount => ElementCountOf(Shape);

    /// <summary>Number of samples along axis 0 (1 for a 0-d array).</summary>
    public long SampleCount => Shape.Count == 0 ? 1 : Shape[0];

    /// <summary>The raw little-endian element bytes in C order.</summary>
    public ReadOnlySpan<byte> Bytes => _data;

    /// <summary>Reads an array from a <c>.npy</c> file.</summary>
    /// <exception cref="InvalidDataException">The file is not a supported .npy array.</exception>
    public static NpyArray Load(string path)
    {
        using FileStream stream = File.OpenRead(path);
        return Read(stream, path);
    }

    /// <summary>Reads an array from a stream positioned at the start of <c>.npy</c> content.</summary>
    /// <param name="stream">The stream to read.</param>
    /// <param name="name">A name for error messages (file or entry name).</param>
    public static NpyArray Read(Stream stream, string name)
    {
        Span<byte> preamble = stackalloc byte[8];
        ReadExactly(stream, preamble, name);
        if (!preamble[..6].SequenceEqual(Magic))
        {
            throw Invalid(name, "it does not start with the NumPy magic string");
        }

        int major = preamble[6];
        int headerLength;
        if (major == 1)
        {
            Span<byte> len = stackalloc byte[2];
            ReadExactly(stream, len, name);
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(len);
        }
        else if (major is 2 or 3)
        {
            Span<byte> len = stackalloc byte[4];
            ReadExactly(stream, len, name);
            headerLength = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(len));
        }
        else
        {
            throw Invalid(name, $"format version {major}.{preamble[7]} is not supported");
        }

        var headerBytes = new byte[headerLength];
        ReadExactly(stream, headerBytes, name);
        string header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(headerBytes);

        Match descr = DescrPattern().Match(header);
        Match order = FortranPattern().Match(header);
        Match shapeMatch = ShapePattern().Match(header);
        if (!descr.Success || !order.Success || !shapeMatch.Success)
        {
            throw Invalid(name, $"its header '{header.Trim()}' is not understood");
        }

        if (order.Groups[1].Value == "True")
        {
            throw Invalid(name, "it is stored in Fortran order; save it in C order (numpy.ascontiguousarray)");
        }

        NpyElementType type = ParseDescr(descr.Groups[1].Value, name);
        long[] shape = shapeMatch.Groups[1].Value
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => long.Parse(s.TrimEnd('L'), CultureInfo.InvariantCulture))
            .ToArray();
        if (shape.Any(d => d < 0))
        {
            throw Invalid(name, $"its shape ({string.Join(", ", shape)}) has a negative dimension");
        }

        long byteCount;
        try
        {
            byteCount = checked(ElementCountOf(shape) * SizeOf(type));
        }
        catch (OverflowException)
        {
            throw Invalid(name, $"its shape ({string.Join(", ", shape)}) holds more bytes than one array can hold");
        }

        if (byteCount > Array.MaxLength)
        {
            throw Invalid(name, $"it holds {byteCount} bytes, more than one array can hold");
        }

        var data = new byte[byteCount];
        ReadExactly(stream, data, name);
        return new NpyArray(name, type, shape, data);
    }

    /// <summary>Size in bytes of one element of the given type.</summary>
    public static int SizeOf(NpyElementType type) => type switch
    {
        NpyElementType.Float64 or NpyElementType.Int64 or NpyElementType.UInt64 => 8,
        NpyElementType.Float32 or NpyElementType.Int32 or NpyElementType.UInt32 => 4,
        NpyElementType.Float16 or NpyElementType.Int16 or NpyElementType.UInt16 => 2,
        _ => 1,
    };

    /// <summary>The elements as a span of <typeparamref name="T"/>, which must match <see cref="ElementType"/> in size.</summary>
    public ReadOnlySpan<T> AsSpan<T>()
        where T : unmanaged
    {
        if (Marshal.SizeOf<T>() != SizeOf(ElementType))
        {
            throw new InvalidOperationException($"Array '{Name}' has {ElementType} elements, which cannot be viewed as {typeof(T).Name}.");
        }

        return MemoryMarshal.Cast<byte, T>(_data);
    }

    /// <summary>Copies the elements to a float32 array, converting from any numeric type.</summary>
    public float[] ToSingleArray()
    {
        var result = new float[ElementCount];
        switch (ElementType)
        {
            case NpyElementType.Float32:
                AsSpan<float>().CopyTo(result);
                break;
            case NpyElementType.Float16:
                ReadOnlySpan<Half> halves = AsSpan<Half>();
                for (int i = 0; i < halves.Length; i++)
                {
                    result[i] = (float)halves[i];
                }

                break;
            default:
                double[] values = ToDoubleArray();
                for (int i = 0; i < values.Length; i++)
                {
                    result[i] = (float)values[i];
                }

                break;
        }

        return result;
    }

    /// <summary>Copies the elements to an int64 array; floating-point values must be whole numbers.</summary>
    public long[] ToInt64Array()
    {
        if (ElementType == NpyElementType.Int64)
        {
            return AsSpan<long>().ToArray();
        }

        double[] values = ToDoubleArray();
        var result = new long[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            result[i] = (long)values[i];
        }

        return result;
    }

    /// <summary>Copies the elements to a float64 array, converting from any numeric type.</summary>
    public double[] ToDoubleArray()
    {
        var result = new double[ElementCount];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = ElementType switch
            {
                NpyElementType.Float64 => AsSpan<double>()[i],
                NpyElementType.Float32 => AsSpan<float>()[i],
                NpyElementType.Float16 => (double)AsSpan<Half>()[i],
                NpyElementType.Int8 => AsSpan<sbyte>()[i],
                NpyElementType.UInt8 or NpyElementType.Bool => _data[i],
                NpyElementType.Int16 => AsSpan<short>()[i],
                NpyElementType.UInt16 => AsSpan<ushort>()[i],
                NpyElementType.Int32 => AsSpan<int>()[i],
                NpyElementType.UInt32 => AsSpan<uint>()[i],
                NpyElementType.Int64 => AsSpan<long>()[i],
                NpyElementType.UInt64 => AsSpan<ulong>()[i],
                _ => throw new InvalidOperationException($"Unexpected element type {ElementType}."),
            };
        }

        return result;
    }

    /// <summary>
    /// The bytes of samples <paramref name="start"/> .. <paramref name="start"/>+<paramref name="count"/>-1
    /// along axis 0 (a 0-d array returns its single value whatever the range).
    /// </summary>
    public ReadOnlySpan<byte> SampleBytes(long start, long count)
    {
        if (Shape.Count == 0)
        {
            return _data;
        }

        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start + count, Shape[0]);
        long sampleBytes = ElementCountOf(Shape.Skip(1).ToArray()) * SizeOf(ElementType);
        return _data.AsSpan(checked((int)(start * sampleBytes)), checked((int)(count * sampleBytes)));
    }

    private static long ElementCountOf(IReadOnlyList<long> shape)
    {
        long n = 1;
        foreach (long d in shape)
        {
            n = checked(n * d);
        }

        return n;
    }

    private static NpyElementType ParseDescr(string descr, string name)
    {
        char byteOrder = descr[0];
        string kind = descr[1..];
        if (byteOrder == '>' && kind is not ("i1" or "u1" or "b1"))
        {
            throw Invalid(name, $"its dtype '{descr}' is big-endian; save it little-endian");
        }

        return kind switch
        {
            "f4" => NpyElementType.Float32,
            "f8" => NpyElementType.Float64,
            "f2" => NpyElementType.Float16,
            "i1" => NpyElementType.Int8,
            "u1" => NpyElementType.UInt8,
            "b1" => NpyElementType.Bool,
            "i2" => NpyElementType.Int16,
            "u2" => NpyElementType.UInt16,
            "i4" => NpyElementType.Int32,
            "u4" => NpyElementType.UInt32,
            "i8" => NpyElementType.Int64,
            "u8" => NpyElementType.UInt64,
            _ => throw Invalid(name, $"its dtype '{descr}' is not a supported numeric type"),
        };
    }

    private static void ReadExactly(Stream stream, Span<byte> buffer, string name)
    {
        try
        {
            stream.ReadExactly(buffer);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"'{name}' is not a valid .npy file: it ends early.", e);
        }
    }

    private static InvalidDataException Invalid(string name, string why) => new($"'{name}' is not a valid .npy file: {why}.");

    [GeneratedRegex(@"'descr'\s*:\s*'([<>|=][a-z]\d+)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
