using Compress.Core.Evaluation;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Spec;

namespace Compress.Core.Passes;

/// <summary>
/// An 8-bit quantized weight matrix [K,N] with per-tensor (one) or per-column (N) scales and zero
/// points, computed the way onnxruntime.quantization does for weights.
/// </summary>
internal sealed class QuantizedMatrix
{
    private QuantizedMatrix(int rows, int columns, QuantType type, byte[] data, float[] scales, int[] zeroPoints)
    {
        Rows = rows;
        Columns = columns;
        Type = type;
        Data = data;
        Scales = scales;
        ZeroPoints = zeroPoints;
    }

    public int Rows { get; }

    public int Columns { get; }

    public QuantType Type { get; }

    /// <summary>Row-major element bytes (sbyte bit patterns for QInt8).</summary>
    public byte[] Data { get; }

    public float[] Scales { get; }

    public int[] ZeroPoints { get; }

    /// <summary>
    /// Quantizes a row-major [rows, columns] matrix. QInt8 is symmetric (zero point 0,
    /// scale = max|w| / 127, or / 63 with reduce_range); QUInt8 is asymmetric over [min(w,0), max(w,0)]
    /// mapped to [0,255] (or [0,127] with reduce_range). Per-channel computes one scale per column
    /// (the output axis of a [K,N] weight).
    /// </summary>
    public static QuantizedMatrix Quantize(float[] values, int rows, int columns, QuantType type, bool perChannel, bool reduceRange)
    {
        int groups = perChannel ? columns : 1;
        var scales = new float[groups];
        var zeroPoints = new int[groups];
        var data = new byte[values.Length];
        (int qmin, int qmax) = Range(type, reduceRange);
        for (int g = 0; g < groups; g++)
        {
            float min = 0f, max = 0f;
            ForEachIndex(rows, columns, perChannel, g, i =>
            {
                min = Math.Min(min, values[i]);
                max = Math.Max(max, values[i]);
            });

            (float scale, int zeroPoint) = ScaleAndZeroPoint(min, max, type, qmin, qmax);
            scales[g] = scale;
            zeroPoints[g] = zeroPoint;
            ForEachIndex(rows, columns, perChannel, g, i =>
            {
                // MathF.Round rounds half to even, as numpy's round does in onnxruntime.quantization.
                int q = Math.Clamp((int)MathF.Round(values[i] / scale) + zeroPoint, qmin, qmax);
                data[i] = unchecked((byte)q);
            });
        }

        return new QuantizedMatrix(rows, columns, type, data, scales, zeroPoints);
    }

    /// <summary>Adds how far the quantized values are from <paramref name="original"/> (row-major [rows, columns], the values they were quantized from).</summary>
    public void AddTo(ref SqnrAccumulator sqnr, ReadOnlySpan<float> original)
    {
        for (int i = 0; i < original.Length; i++)
        {
            int g = Scales.Length == 1 ? 0 : i % Columns;
            int q = Type == QuantType.QInt8 ? (sbyte)Data[i] : Data[i];
            sqnr.Add(original[i], (q - ZeroPoints[g]) * Scales[g]);
        }
    }

    /// <summary>How well the quantized values represent <paramref name="original"/>.</summary>
    public double Sqnr(ReadOnlySpan<float> original)
    {
        var sqnr = default(SqnrAccumulator);
        AddTo(ref sqnr, original);
        return sqnr.Decibels;
    }

    /// <summary>
    /// The same symmetric int8 values stored as uint8 with every zero point 128 (q + 128): equal
    /// dequantized values, one scalar zero point even with per-column scales, for kernels that only
    /// run fast (or only exist) for uint8 weights.
    /// </summary>
    public QuantizedMatrix ToOffsetUInt8()
    {
        if (Type != QuantType.QInt8 || ZeroPoints.Any(z => z != 0))
        {
            throw new InvalidOperationException("Only symmetric int8 weights can be offset to uint8.");
        }

        byte[] shifted = Data.Select(b => unchecked((byte)((sbyte)b + 128))).ToArray();
        return new QuantizedMatrix(Rows, Columns, QuantType.QUInt8, shifted, Scales, ZeroPoints.Select(_ => 128).ToArray());
    }

    /// <summary>The representable range of quantized weights.</summary>
    public static (int Min, int Max) Range(QuantType type, bool reduceRange) => type switch
    {
        // Symmetric int8 keeps -128 unused so that the range is symmetric around the zero point 0.
        QuantType.QInt8 => reduceRange ? (-63, 63) : (-127, 127),
        _ => reduceRange ? (0, 127) : (0, 255),
    };

    public TensorProto WeightTensor(string name) => Type == QuantType.QInt8
        ? TensorData.Create(name, [Rows, Columns], TensorProto.Types.DataType.Int8, Data)
        : TensorData.CreateUInt8(name, [Rows, Columns], Data);

    public TensorProto ScaleTensor(string name) =>
        Scales.Length == 1 ? TensorData.CreateFloat(name, [], Scales) : TensorData.CreateFloat(name, [Scales.Length], Scales);

    public TensorProto ZeroPointTensor(string name)
    {
        long[] dims = ZeroPoints.Length == 1 ? [] : [ZeroPoints.Length];
        if (Type == QuantType.QInt8)
        {
            sbyte[] zp = ZeroPoints.Select(z => (sbyte)z).ToArray();
            return TensorData.CreateInt8(name, dims, zp);
        }

        return TensorData.CreateUInt8(name, dims, ZeroPoints.Select(z => (byte)z).ToArray());
    }

    private static (float Scale, int ZeroPoint) ScaleAndZeroPoint(float min, float max, QuantType type, int qmin, int qmax)
    {
        if (type == QuantType.QInt8)
        {
            float absMax = Math.Max(-min, max);
            float symmetricScale = absMax / qmax;
            return (symmetricScale > 0f ? symmetricScale : 1f, 0);
        }

        float scale = (max - min) / (qmax - qmin);
        if (!(scale > 0f))
        {
            return (1f, 0);
        }

        int zeroPoint = Math.Clamp((int)MathF.Round(qmin - (min / scale)), qmin, qmax);
        return (scale, zeroPoint);
    }

    private static void ForEachIndex(int rows, int columns, bool perChannel, int group, Action<int> action)
    {
        if (!perChannel)
        {
            for (int i = 0; i < rows * columns; i++)
            {
                action(i);
            }

            return;
        }

        for (int r = 0; r < rows; r++)
        {
            action((r * columns) + group);
        }
    }
}
