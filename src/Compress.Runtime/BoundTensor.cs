using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using TensorElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;

namespace Compress.Runtime;

/// <summary>
/// One float tensor bound to an <see cref="OrtIoBinding"/> and kept between runs, so that a steady-state call
/// with the same shape creates no ONNX Runtime objects. Small tensors live in a native staging buffer owned
/// here (the caller's data is copied in or out: a few hundred bytes cost nanoseconds, and the caller may pass a
/// different slice every call); large tensors wrap the caller's pinned memory and are reused while the
/// caller passes the same address and shape.
/// </summary>
internal sealed unsafe class BoundTensor : IDisposable
{
    /// <summary>Tensors up to this size are staged (copied); larger ones are wrapped in place.</summary>
    public const long StageLimitBytes = 4096;

    private readonly long[] _shape;
    private OrtValue? _value;
    private float* _callerAddress;
    private float* _stage;
    private long _stageCapacity;

    public BoundTensor(int rank) => _shape = new long[rank];

    /// <summary>Whether the bound value lives in the staging buffer (copy in before / out after the run).</summary>
    public bool IsStaged { get; private set; }

    /// <summary>The staging buffer (valid when <see cref="IsStaged"/>).</summary>
    public float* Stage => _stage;

    /// <summary>The bound value (valid after <see cref="Prepare"/>).</summary>
    public OrtValue Value => _value!;

    /// <summary>
    /// Makes <see cref="Value"/> describe <paramref name="shape"/> over the caller's pinned memory or the stage.
    /// Allocates nothing when nothing changed since the last call.
    /// </summary>
    /// <returns><see langword="true"/> when the value was replaced and must be bound again.</returns>
    public bool Prepare(float* caller, long count, ReadOnlySpan<long> shape)
    {
        bool stage = count * sizeof(float) <= StageLimitBytes;
        if (_value is not null && IsStaged == stage && (stage || _callerAddress == caller) && shape.SequenceEqual(_shape))
        {
            return false;
        }

        _value?.Dispose();
        _value = null;
        float* data = caller;
        if (stage)
        {
            EnsureStage(count);
            data = _stage;
        }

        shape.CopyTo(_shape);
        _value = OrtValue.CreateTensorValueWithData(
            OrtMemoryInfo.DefaultInstance, TensorElementType.Float, _shape, (nint)data, count * sizeof(float));
        IsStaged = stage;
        _callerAddress = stage ? null : caller;
        return true;
    }

    public void Dispose()
    {
        _value?.Dispose();
        _value = null;
        if (_stage is not null)
        {
            NativeMemory.AlignedFree(_stage);
            _stage = null;
        }
    }

    private void EnsureStage(long count)
    {
        long needed = Math.Max(count, 1);
        if (_stageCapacity >= needed)
        {
            return;
        }

        if (_stage is not null)
        {
            NativeMemory.AlignedFree(_stage);
            _stage = null;
            _stageCapacity = 0;
        }

        // 64-byte alignment matches what ONNX Runtime's own allocator gives its kernels.
        _stage = (float*)NativeMemory.AlignedAlloc((nuint)(needed * sizeof(float)), 64);
        _stageCapacity = needed;
    }
}
