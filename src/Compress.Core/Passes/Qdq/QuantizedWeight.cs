using Compress.Core.Evaluation;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Spec;

namespace Compress.Core.Passes.Qdq;

/// <summary>
/// A constant quantized per tensor or per channel along one axis of any rank (Conv [M,C,kH,kW] on
/// axis 0, ConvTranspose on axis 1, MatMul [K,N] on axis 1), the way
/// onnxruntime.quantization quantizes weights: range over the channel, widened to include 0,
/// compute_scale_zp, q = clamp(round_half_even(w / scale) + zero_point).
/// </summary>
internal sealed class QuantizedWeight
{
    private QuantizedWeight(long[] dims, int? axis, QuantType type, byte[] data, float[] scales, int[] zeroPoints)
    {
        Dims = dims;
        Axis = axis;
        Type = type;
        Data = data;
        Scales = scales;
        ZeroPoints = zeroPoints;
    }

    public long[] Dims { get; }

    /// <summary>The channel axis, or null when quantized per tensor.</summary>
    public int? Axis { get; }

    public QuantType Type { get; }

    /// <summary>Element bytes in the tensor's order (sbyte bit patterns for QInt8; two little-endian bytes per 16-bit element).</summary>
    public byte[] Data { get; }

    /// <summary>Number of quantized elements.</summary>
    public int ElementCount => Data.Length / QuantTypeEncoding.ElementBytes(Type);

    public float[] Scales { get; }

    public int[] ZeroPoints { get; }

    /// <summary>Quantizes <paramref name="values"/> of shape <paramref name="dims"/>; <paramref name="axis"/> null = per tensor.</summary>
    public static QuantizedWeight Quantize(float[] values, long[] dims, int? axis, QuantType type, bool symmetric, bool reduceRange)
    {
        int channels = axis is { } a ? checked((int)dims[a]) : 1;
        long inner = axis is { } b ? dims.Skip(b + 1).Aggregate(1L, (x, y) => x * y) : values.Length;
        var mins = new float[channels];
        var maxs = new float[channels];
        for (int i = 0; i < values.Length; i++)
        {
            int c = Channel(i, inner, channels);
            mins[c] = Math.Min(mins[c], values[i]);
            maxs[c] = Math.Max(maxs[c], values[i]);
        }

        var parameters = new QuantParameters[channels];
        for (int c = 0; c < channels; c++)
        {
            parameters[c] = QuantParameters.Compute(mins[c], maxs[c], type, symmetric, reduceRange, null);
        }

        (int qmin, int qmax) = QuantParameters.IntegerRange(type, reduceRange, symmetric);
        var data = new byte[values.Length * QuantTypeEncoding.ElementBytes(type)];
        for (int i = 0; i < values.Length; i++)
        {
            QuantParameters p = parameters[Channel(i, inner, channels)];
            int q = Math.Clamp((int)MathF.Round(values[i] / p.Scale, MidpointRounding.ToEven) + p.ZeroPoint, qmin, qmax);
            QuantTypeEncoding.Write(data, i, q, type);
        }

        return new QuantizedWeight(dims, axis, type, data, parameters.Select(p => p.Scale).ToArray(), parameters.Select(p => p.ZeroPoint).ToArray());
    }

    /// <summary>How well the quantized values represent <paramref name="original"/>, the values they were quantized from.</summary>
    public double Sqnr(ReadOnlySpan<float> original)
    {
        int channels = Scales.Length;
        long inner = Axis is { } a ? Dims.Skip(a + 1).Aggregate(1L, (x, y) => x * y) : ElementCount;
        var sqnr = default(SqnrAccumulator);
        for (int i = 0; i < original.Length; i++)
        {
            int c = Channel(i, inner, channels);
            sqnr.Add(original[i], (QuantTypeEncoding.Read(Data, i, Type) - ZeroPoints[c]) * Scales[c]);
        }

        return sqnr.Decibels;
    }

    public TensorProto WeightTensor(string name) => TensorData.Create(name, Dims, QuantTypeEncoding.DataType(Type), Data);

    public TensorProto ScaleTensor(string name) =>
        Axis is null ? TensorData.CreateFloat(name, [], Scales) : TensorData.CreateFloat(name, [Scales.Length], Scales);

    public TensorProto ZeroPointTensor(string name)
    {
        long[] dims = Axis is null ? [] : [ZeroPoints.Length];
        return QuantTypeEncoding.Tensor(name, dims, Type, ZeroPoints);
    }

    private static int Channel(int index, long inner, int channels) => channels == 1 ? 0 : (int)(index / inner % channels);
}
