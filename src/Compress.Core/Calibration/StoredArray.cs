using Compress.Runtime.Data;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Compress.Core.Calibration;

/// <summary>
/// One array of calibration data as stored in its file (a .npy, an .npz entry or a TensorProto .pb),
/// kept in its file's bytes until batches are cut from it.
/// </summary>
internal sealed class StoredArray
{
    private readonly NpyArray? _npy;
    private readonly byte[]? _bytes;

    private StoredArray(string file, string label, TensorElementType type, long[] shape, bool samplesOnAxis0, NpyArray? npy, byte[]? bytes)
    {
        File = file;
        Label = label;
        ElementType = type;
        Shape = shape;
        SamplesOnAxis0 = samplesOnAxis0;
        _npy = npy;
        _bytes = bytes;
    }

    /// <summary>The file the array came from (for diagnostics).</summary>
    public string File { get; }

    /// <summary>A short name for messages: the file name, or <c>archive.npz:entry</c>.</summary>
    public string Label { get; }

    public TensorElementType ElementType { get; }

    public IReadOnlyList<long> Shape { get; }

    /// <summary>
    /// True when samples run along axis 0 (.npy, .npz, a folder of .pb); false when the array is a whole
    /// model input with its batch axis where the model has it (ONNX backend <c>test_data_set_*</c>).
    /// </summary>
    public bool SamplesOnAxis0 { get; }

    public ReadOnlySpan<byte> Bytes => _npy is not null ? _npy.Bytes : _bytes;

    public static StoredArray FromNpy(string file, NpyArray array) =>
        new(file, Path.GetFileName(array.Name), ElementConversion.FromNpy(array.ElementType), [.. array.Shape], samplesOnAxis0: true, array, null);

    public static StoredArray FromTensor(string file, TensorElementType type, long[] shape, byte[] bytes, bool samplesOnAxis0) =>
        new(file, Path.GetFileName(file), type, shape, samplesOnAxis0, null, bytes);
}
