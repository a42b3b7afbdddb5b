using System.Buffers;
using System.Numerics.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace Compress.Runtime;

/// <summary>
/// One named input for <see cref="CompressedModel.Run(IReadOnlyList{ModelInput})"/>: element data in C order
/// (row-major) and a shape. Create one with <see cref="Create{T}(string, ReadOnlyMemory{T}, ReadOnlySpan{long})"/>,
/// <see cref="Scalar{T}(string, T)"/> or <see cref="Create{T}(string, Tensor{T})"/>. The data are not copied
/// (except from a tensor): keep them unchanged until the run returns. Supported element types:
/// <see cref="float"/>, <see cref="double"/>, <see cref="Half"/>, <see cref="sbyte"/>, <see cref="byte"/>,
/// <see cref="short"/>, <see cref="ushort"/>, <see cref="int"/>, <see cref="uint"/>, <see cref="long"/>,
/// <see cref="ulong"/> and <see cref="bool"/>.
/// </summary>
public abstract class ModelInput
{
    private readonly long[] _shape;

    private protected ModelInput(string name, ModelElementType elementType, long[] shape)
    {
        Name = name;
        ElementType = elementType;
        _shape = shape;
    }

    /// <summary>The model input this value is for.</summary>
    public string Name { get; }

    /// <summary>The element type of the data.</summary>
    public ModelElementType ElementType { get; }

    /// <summary>The dimensions of the data (empty for a scalar).</summary>
    public IReadOnlyList<long> Shape => _shape;

    /// <summary>Number of elements (product of <see cref="Shape"/>, 1 for a scalar).</summary>
    public long ElementCount => Shapes.ElementCount(_shape);

    internal long[] ShapeArray => _shape;

    /// <summary>Wraps data of the given shape as an input.</summary>
    /// <typeparam name="T">The element type; must be one of the supported types (see <see cref="ModelInput"/>).</typeparam>
    /// <param name="name">The model input name.</param>
    /// <param name="data">The elements in C order; its length must equal the product of <paramref name="shape"/>.</param>
    /// <param name="shape">The dimensions (none for a scalar).</param>
    /// <exception cref="ArgumentException">The type is not supported, a dimension is negative or the length does not match the shape.</exception>
    public static ModelInput Create<T>(string name, ReadOnlyMemory<T> data, params ReadOnlySpan<long> shape)
        where T : unmanaged
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ModelElementType type = ElementTypeOf<T>();
        long count = Shapes.ElementCount(shape);
        if (count != data.Length)
        {
            throw new ArgumentException(
                $"Input '{name}' has {data.Length} elements but shape {Shapes.Format(shape)} needs {count}.", nameof(data));
        }

        return new MemoryModelInput<T>(name, type, shape.ToArray(), data);
    }

    /// <summary>Wraps an array of the given shape as an input (the array is not copied).</summary>
    /// <typeparam name="T">The element type; must be one of the supported types (see <see cref="ModelInput"/>).</typeparam>
    /// <param name="name">The model input name.</param>
    /// <param name="data">The elements in C order; its length must equal the product of <paramref name="shape"/>.</param>
    /// <param name="shape">The dimensions (none for a scalar).</param>
    /// <exception cref="ArgumentException">The type is not supported, a dimension is negative or the length does not match the shape.</exception>
    public static ModelInput Create<T>(string name, T[] data, params ReadOnlySpan<long> shape)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(data);
        return Create(name, new ReadOnlyMemory<T>(data), shape);
    }

    /// <summary>A 0-d (scalar) input such as Silero VAD's sample rate <c>sr</c>.</summary>
    /// <typeparam name="T">The element type; must be one of the supported types (see <see cref="ModelInput"/>).</typeparam>
    /// <param name="name">The model input name.</param>
    /// <param name="value">The value.</param>
    public static ModelInput Scalar<T>(string name, T value)
        where T : unmanaged => Create(name, new[] { value }, ReadOnlySpan<long>.Empty);

    /// <summary>An input with the elements and shape of a tensor (the elements are copied, so the tensor may change afterwards).</summary>
    /// <typeparam name="T">The element type; must be one of the supported types (see <see cref="ModelInput"/>).</typeparam>
    /// <param name="name">The model input name.</param>
    /// <param name="tensor">The tensor (dense or strided).</param>
    public static ModelInput Create<T>(string name, Tensor<T> tensor)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var data = new T[checked((int)tensor.FlattenedLength)];
        tensor.FlattenTo(data);
        return Create(name, data, ToLongs(tensor.Lengths));
    }

    /// <summary>Describes the input like <c>input: Float32[1,64]</c>.</summary>
    public override string ToString() => $"{Name}: {ElementType}{Shapes.Format(_shape)}";

    /// <summary>Pins the data and wraps it as an ONNX Runtime tensor; dispose the value, then the pin, after the run.</summary>
    internal abstract OrtValue CreateOrtValue(out MemoryHandle pin);

    internal static long[] ToLongs(ReadOnlySpan<nint> lengths)
    {
        var shape = new long[lengths.Length];
        for (int i = 0; i < lengths.Length; i++)
        {
            shape[i] = lengths[i];
        }

        return shape;
    }

    private static ModelElementType ElementTypeOf<T>()
    {
        ModelElementType? type = ElementTypes.FromClr(typeof(T));
        if (type is null or ModelElementType.String)
        {
            throw new ArgumentException(
                $"Element type {typeof(T).Name} is not supported; use float, double, Half, sbyte, byte, short, ushort, int, uint, long, ulong or bool.");
        }

        return type.Value;
    }
}
