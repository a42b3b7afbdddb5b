using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;

namespace Compress.Core.Evaluation;

/// <summary>
/// Per-tensor signal-to-quantization-noise ratio of weights quantized to int8/uint8 (dynamic and static passes):
/// the original float initializer <c>W</c> against <c>W_quantized</c> dequantized with <c>W_scale</c> and
/// <c>W_zero_point</c> (or <c>W_T_…</c> for a transposed weight; per tensor, or per channel along the axis whose size matches the scales).
/// Weights in other forms (MatMulNBits blocks, float16) are not measured.
/// </summary>
public static class WeightSqnr
{
    /// <summary>SQNR of every weight of <paramref name="original"/> found quantized in <paramref name="compressed"/>, in original order.</summary>
    public static IReadOnlyList<WeightQuantizationError> Measure(ModelProto original, ModelProto compressed)
    {
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(compressed);
        Dictionary<string, TensorProto> quantized = AllInitializers(compressed.Graph)
            .GroupBy(t => t.Name, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var errors = new List<WeightQuantizationError>();
        foreach (TensorProto weight in AllInitializers(original.Graph))
        {
            // Dynamic Gemm quantizes the transposed weight, named W_T.
            string? stem = new[] { weight.Name, weight.Name + "_T" }.FirstOrDefault(s => quantized.ContainsKey(s + "_quantized") && quantized.ContainsKey(s + "_scale"));
            if (TensorData.TypeOf(weight) != TensorProto.Types.DataType.Float || TensorData.IsExternal(weight) || stem is null)
            {
                continue;
            }

            TensorProto q = quantized[stem + "_quantized"], scale = quantized[stem + "_scale"];
            quantized.TryGetValue(stem + "_zero_point", out TensorProto? zeroPoint);
            if (TensorData.ElementCount(q) != TensorData.ElementCount(weight))
            {
                continue;
            }

            float[] floats = TensorData.ReadFloats(weight);
            if (!q.Dims.SequenceEqual(weight.Dims))
            {
                // Gemm weights [out, in] may be stored transposed for MatMulInteger; other layouts are not compared.
                if (weight.Dims.Count != 2 || q.Dims[0] != weight.Dims[1] || q.Dims[1] != weight.Dims[0])
                {
                    continue;
                }

                floats = RowMajor.Transpose(floats, (int)weight.Dims[0], (int)weight.Dims[1]);
            }

            if (Dequantize(q, scale, zeroPoint) is { } restored)
            {
                errors.Add(new WeightQuantizationError(weight.Name, restored.Length, Sqnr(floats, restored)));
            }
        }

        return errors;
    }

    /// <summary>10·log10(signal energy / noise energy); 999 dB stands for an exact copy (JSON has no infinity).</summary>
    public static double Sqnr(ReadOnlySpan<float> signal, ReadOnlySpan<float> approximation)
    {
        double power = 0, noise = 0;
        for (int i = 0; i < signal.Length; i++)
        {
            double d = (double)signal[i] - approximation[i];
            power += (double)signal[i] * signal[i];
            noise += d * d;
        }

        return noise == 0 ? 999 : power == 0 ? -999 : Math.Round(10 * Math.Log10(power / noise), 3);
    }

    private static float[]? Dequantize(TensorProto q, TensorProto scaleTensor, TensorProto? zeroPointTensor)
    {
        int[]? values = ReadIntegers(q);
        float[] scales = TensorData.ReadFloats(scaleTensor);
        int[] zeroPoints = zeroPointTensor is null ? new int[scales.Length] : ReadIntegers(zeroPointTensor) ?? new int[scales.Length];
        if (values is null || scales.Length == 0 || zeroPoints.Length != scales.Length)
        {
            return null;
        }

        // Per channel: the axis whose size equals the number of scales (output channels: axis 0 first, then 1).
        long[] dims = [.. q.Dims];
        int axis = scales.Length == 1 ? -1 : Array.FindIndex(dims, d => d == scales.Length);
        if (scales.Length > 1 && axis < 0)
        {
            return null;
        }

        long inner = 1;
        for (int i = axis + 1; i < dims.Length && axis >= 0; i++)
        {
            inner *= dims[i];
        }

        var restored = new float[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            int channel = axis < 0 ? 0 : (int)(i / inner % scales.Length);
            restored[i] = (values[i] - zeroPoints[channel]) * scales[channel];
        }

        return restored;
    }

    private static int[]? ReadIntegers(TensorProto tensor)
    {
        var type = TensorData.TypeOf(tensor);
        if (type is not (TensorProto.Types.DataType.Int8 or TensorProto.Types.DataType.Uint8))
        {
            return null;
        }

        if (tensor.RawData.Length > 0)
        {
            ReadOnlySpan<byte> raw = tensor.RawData.Span;
            var values = new int[raw.Length];
            for (int i = 0; i < raw.Length; i++)
            {
                values[i] = type == TensorProto.Types.DataType.Int8 ? (sbyte)raw[i] : raw[i];
            }

            return values;
        }

        return [.. tensor.Int32Data];
    }

    private static IEnumerable<TensorProto> AllInitializers(GraphProto graph)
    {
        foreach (TensorProto tensor in graph.Initializer)
        {
            yield return tensor;
        }

        foreach (NodeProto node in graph.Node)
        {
            foreach (AttributeProto attribute in node.Attribute)
            {
                IEnumerable<GraphProto> subgraphs = attribute.G is null ? attribute.Graphs : [attribute.G, .. attribute.Graphs];
                foreach (TensorProto tensor in subgraphs.SelectMany(AllInitializers))
                {
                    yield return tensor;
                }
            }
        }
    }
}
