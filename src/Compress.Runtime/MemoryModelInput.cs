using System.Buffers;
using Microsoft.ML.OnnxRuntime;

namespace Compress.Runtime;

/// <summary>A <see cref="ModelInput"/> over caller memory, pinned only while a run uses it.</summary>
internal sealed class MemoryModelInput<T> : ModelInput
    where T : unmanaged
{
    private readonly ReadOnlyMemory<T> _data;

    public MemoryModelInput(string name, ModelElementType elementType, long[] shape, ReadOnlyMemory<T> data)
        : base(name, elementType, shape) => _data = data;

    internal override unsafe OrtValue CreateOrtValue(out MemoryHandle pin)
    {
        pin = _data.Pin();
        try
        {
            // ONNX Runtime only reads inputs, so wrapping read-only memory is safe.
            return OrtValue.CreateTensorValueWithData(
                OrtMemoryInfo.DefaultInstance,
                ElementTypes.ToOrt(ElementType),
                ShapeArray,
                (nint)pin.Pointer,
                (long)_data.Length * sizeof(T));
        }
        catch
        {
            pin.Dispose();
            throw;
        }
    }
}
