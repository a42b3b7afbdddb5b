using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;

namespace Compress.Core.Evaluation;

/// <summary>
/// Per-tensor signal-to-quantization-noise ratio of quantized weights. Each quantization pass measures the float
/// weight it quantized (after BatchNorm folding, padding or a transpose, the values the integer tensor stands for)
/// against its dequantized integer form, and records it with the integer initializer's name; the report lists
/// those still in the final model, so weights that accuracy tuning put back in float drop out.
/// Weights in other forms (MatMulNBits blocks, float16) are not measured.
/// </summary>
public static class WeightSqnr
{
    /// <summary>The SQNR records of <paramref name="passes"/> whose integer initializer <paramref name="compressed"/> still holds, in pass order.</summary>
    public static IReadOnlyList<WeightQuantizationError> Collect(IEnumerable<PassReport> passes, ModelProto compressed)
    {
        ArgumentNullException.ThrowIfNull(passes);
        ArgumentNullException.ThrowIfNull(compressed);
        var present = new HashSet<string>(InitializerNames(compressed.Graph), StringComparer.Ordinal);
        var errors = new List<WeightQuantizationError>();
        foreach (PassReport pass in passes)
        {
            foreach (QuantizedWeightRecord record in pass.QuantizedWeights)
            {
                if (present.Remove(record.IntegerTensor))
                {
                    errors.Add(new WeightQuantizationError(record.Tensor, record.Elements, record.SqnrDb, [.. record.Readers]));
                }
            }
        }

        return errors;
    }

    /// <summary>10·log10(signal energy / noise energy); 999 dB stands for an exact copy (JSON has no infinity).</summary>
    public static double Sqnr(ReadOnlySpan<float> signal, ReadOnlySpan<float> approximation)
    {
        if (signal.Length != approximation.Length)
        {
            throw new ArgumentException("The signal and its approximation differ in length.", nameof(approximation));
        }

        var sqnr = default(SqnrAccumulator);
        for (int i = 0; i < signal.Length; i++)
        {
            sqnr.Add(signal[i], approximation[i]);
        }

        return sqnr.Decibels;
    }

    private static IEnumerable<string> InitializerNames(GraphProto graph)
    {
        foreach (TensorProto tensor in graph.Initializer)
        {
            yield return tensor.Name;
        }

        foreach (NodeProto node in graph.Node)
        {
            if (node.OpType == "Constant")
            {
                yield return node.Output[0];
            }

            foreach (AttributeProto attribute in node.Attribute)
            {
                IEnumerable<GraphProto> subgraphs = attribute.G is null ? attribute.Graphs : [attribute.G, .. attribute.Graphs];
                foreach (string name in subgraphs.SelectMany(InitializerNames))
                {
                    yield return name;
                }
            }
        }
    }
}
