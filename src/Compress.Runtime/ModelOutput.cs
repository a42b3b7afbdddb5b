using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace Compress.Runtime;

/// <summary>
/// One output of a run: its name, element type, shape and elements (copied out of ONNX Runtime, so the
/// object stays valid after the model is disposed).
/// </summary>
public sealed class ModelOutput
{
    private readonly Array _data;
    private readonly long[] _shape;

    internal ModelOutput(string name, ModelElementType elementType, long[] shape, Array data)
    {
        Name = name;
        ElementType = elementType;
        _shape = shape;
        _data = data;
    }

    /// <summary>The model output name.</summary>
    public string Name { get; }

    /// <summary>The element type; <see cref="ModelElementType.Other"/> data are raw bytes.</summary>
    public ModelElementType ElementType { get; }

    /// <summary>The actual dimensions of this output (empty for a scalar).</summary>
    public IReadOnlyList<long> Shape => _shape;

    /// <summary>Number of elements.</summary>
    public int ElementCount => _data.Length;

    /// <summary>The elements in C order, without copying.</summary>
    /// <typeparam name="T">The .NET type of <see cref="ElementType"/> (for example <see cref="float"/> for <see cref="ModelElementType.Float32"/>).</typeparam>
    /// <exception cref="InvalidOperationException"><typeparamref name="T"/> is not the output's element type.</exception>
    public ReadOnlySpan<T> AsSpan<T>() => Typed<T>();

    /// <summary>A copy of the elements in C order.</summary>
    /// <typeparam name="T">The .NET type of <see cref="ElementType"/>.</typeparam>
    /// <exception cref="InvalidOperationException"><typeparamref name="T"/> is not the output's element type.</exception>
    public T[] ToArray<T>() => (T[])Typed<T>().Clone();

    /// <summary>A new tensor holding a copy of the elements, with this output's shape.</summary>
    /// <typeparam name="T">The .NET type of <see cref="ElementType"/>.</typeparam>
    /// <exception cref="InvalidOperationException"><typeparamref name="T"/> is not the output's element type.</exception>
    public Tensor<T> ToTensor<T>() => Tensor.Create(ToArray<T>(), Lengths());

    /// <summary>Describes the output like <c>logits: Float32[1,10]</c>.</summary>
    public override string ToString() => $"{Name}: {ElementType}{Shapes.Format(_shape)}";

    /// <summary>Wraps the elements as a tensor without copying (for outputs nobody else sees).</summary>
    internal Tensor<T> WrapAsTensor<T>() => Tensor.Create(Typed<T>(), Lengths());

    /// <summary>Copies an ONNX Runtime tensor value into a managed output.</summary>
    internal static ModelOutput FromOrtValue(string name, OrtValue value)
    {
        if (!value.IsTensor)
        {
            throw new NotSupportedException($"Output '{name}' is a {value.OnnxType}, not a tensor; only tensor outputs are supported.");
        }

        OrtTensorTypeAndShapeInfo info = value.GetTensorTypeAndShape();
        ModelElementType type = ElementTypes.FromOrt(info.ElementDataType);
        Array data = type switch
        {
            ModelElementType.Float32 => Copy<float>(value),
            ModelElementType.Float64 => Copy<double>(value),
            ModelElementType.Float16 => Copy<Half>(value),
            ModelElementType.Int8 => Copy<sbyte>(value),
            ModelElementType.UInt8 => Copy<byte>(value),
            ModelElementType.Int16 => Copy<short>(value),
            ModelElementType.UInt16 => Copy<ushort>(value),
            ModelElementType.Int32 => Copy<int>(value),
            ModelElementType.UInt32 => Copy<uint>(value),
            ModelElementType.Int64 => Copy<long>(value),
            ModelElementType.UInt64 => Copy<ulong>(value),
            ModelElementType.Bool => Copy<bool>(value),
            ModelElementType.String => value.GetStringTensorAsArray(),
            _ => value.GetTensorMutableRawData().ToArray(),
        };
        return new ModelOutput(name, type, info.Shape, data);
    }

    private static T[] Copy<T>(OrtValue value)
        where T : unmanaged => MemoryMarshal.Cast<byte, T>(value.GetTensorMutableRawData()).ToArray();

    private T[] Typed<T>()
    {
        // Compare exact types: the runtime would let an sbyte[] pass as byte[] (or int[] as uint[]).
        Type actual = _data.GetType().GetElementType()!;
        return actual == typeof(T)
            ? (T[])_data
            : throw new InvalidOperationException($"Output '{Name}' holds {ElementType} elements ({actual.Name}), not {typeof(T).Name}.");
    }

    private nint[] Lengths()
    {
        var lengths = new nint[_shape.Length];
        for (int i = 0; i < _shape.Length; i++)
        {
            lengths[i] = checked((nint)_shape[i]);
        }

        return lengths;
    }
}
