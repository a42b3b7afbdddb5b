using Compress.Core.Calibration;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Microsoft.ML.OnnxRuntime;

namespace Compress.Core.Evaluation;

/// <summary>
/// Per-tensor signal-to-quantization-noise ratio of activations: both models run on the same samples with every
/// float tensor produced in both main graphs exposed as an output, and the compressed tensor is compared with the
/// original one. Static quantization keeps tensor names (a quantized tensor's readers see its dequantized value
/// under the original name), so the worst entries point at the layers that hurt — the ones to exclude.
/// </summary>
public static class ActivationSqnr
{
    /// <summary>Measures on up to <paramref name="maxSamples"/> samples of <paramref name="data"/>; worst tensors first.</summary>
    public static IReadOnlyList<ActivationQuantizationError> Measure(ModelProto original, ModelProto compressed, CalibrationDataSet data, int maxSamples = 64)
    {
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(compressed);
        ArgumentNullException.ThrowIfNull(data);
        Dictionary<string, NodeProto> producers = CommonTensors(original.Graph, compressed.Graph);
        if (producers.Count == 0)
        {
            return [];
        }

        using SessionOptions options = EvaluationSessionOptions.Create();
        using OrtModelSession referenceSession = OrtModelSession.Open(OrtModelSession.WithOutputs(original, producers.Keys), options);
        using OrtModelSession candidateSession = OrtModelSession.Open(OrtModelSession.WithOutputs(compressed, producers.Keys), options);
        InferenceSession reference = referenceSession.Session, candidate = candidateSession.Session;
        string[] names = [.. producers.Keys.Where(n => IsFloat(reference, n) && IsFloat(candidate, n))];
        if (names.Length == 0)
        {
            return []; // e.g. after the float16 pass every shared tensor is float16 in the compressed model
        }

        var signal = new double[names.Length];
        var noise = new double[names.Length];
        using var run = new RunOptions();
        int seen = 0;
        foreach (CalibrationBatch batch in data.ReadBatches(Math.Min(16, maxSamples)))
        {
            using (batch)
            {
                var converted = new List<OrtValue>();
                try
                {
                    using IDisposableReadOnlyCollection<OrtValue> expected = reference.Run(run, batch.InputNames, batch.Values, names);
                    using IDisposableReadOnlyCollection<OrtValue> actual = candidate.Run(run, batch.InputNames, SessionInputFitting.FitAll(candidate, batch.InputNames, batch.Values, converted), names);
                    for (int i = 0; i < names.Length; i++)
                    {
                        Accumulate(expected[i].GetTensorDataAsSpan<float>(), actual[i].GetTensorDataAsSpan<float>(), ref signal[i], ref noise[i]);
                    }
                }
                finally
                {
                    converted.ForEach(v => v.Dispose());
                }

                seen += batch.SampleCount;
            }

            if (seen >= maxSamples)
            {
                break;
            }
        }

        return [.. names
            .Select((name, i) => new ActivationQuantizationError(name, producers[name].OpType, Decibels(signal[i], noise[i]), producers[name].Name))
            .OrderBy(e => e.SqnrDb)
            .ThenBy(e => e.Tensor, StringComparer.Ordinal)];
    }

    private static void Accumulate(ReadOnlySpan<float> x, ReadOnlySpan<float> q, ref double signal, ref double noise)
    {
        int n = Math.Min(x.Length, q.Length);
        for (int i = 0; i < n; i++)
        {
            double d = x[i] - q[i];
            signal += (double)x[i] * x[i];
            noise += d * d;
        }
    }

    // An exact match has no noise: report a ceiling instead of infinity so the JSON stays a number.
    private static double Decibels(double signal, double noise) =>
        Math.Round(noise <= 0 ? 200 : signal <= 0 ? 0 : Math.Min(200, 10 * Math.Log10(signal / noise)), 3);

    /// <summary>Tensors produced by nodes in both main graphs (not Constants), with the original's node producing each.</summary>
    private static Dictionary<string, NodeProto> CommonTensors(GraphProto original, GraphProto compressed)
    {
        var produced = new HashSet<string>(compressed.Node.SelectMany(n => n.Output), StringComparer.Ordinal);
        var common = new Dictionary<string, NodeProto>(StringComparer.Ordinal);
        foreach (NodeProto node in original.Node.Where(n => n.OpType != "Constant"))
        {
            foreach (string output in node.Output.Where(o => o.Length > 0 && produced.Contains(o)))
            {
                common.TryAdd(output, node);
            }
        }

        return common;
    }

    private static bool IsFloat(InferenceSession session, string name) =>
        session.OutputMetadata.TryGetValue(name, out NodeMetadata? meta) && meta.IsTensor && meta.ElementDataType == Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float;
}
