using Compress.Core.Calibration;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Compress.Core.Tests.Passes;

/// <summary>
/// MinMax ranges for the static quantization tests (stand-in until the calibration component is
/// available): every main-graph node output becomes a graph output, the model runs on the
/// calibration batches, and each float tensor's overall min and max are kept.
/// </summary>
internal static class StaticMinMaxCalibration
{
    public static Dictionary<string, TensorRange> Calibrate(ModelProto model, IEnumerable<IReadOnlyDictionary<string, (float[] Data, long[] Shape)>> batches)
    {
        ModelProto probe = model.Clone();
        var existing = new HashSet<string>(probe.Graph.Output.Select(o => o.Name), StringComparer.Ordinal);
        foreach (NodeProto node in probe.Graph.Node.Where(n => n.OpType != "Constant"))
        {
            foreach (string output in node.Output.Where(o => o.Length > 0 && existing.Add(o)))
            {
                probe.Graph.Output.Add(new ValueInfoProto { Name = output });
            }
        }

        var ranges = new Dictionary<string, TensorRange>(StringComparer.Ordinal);
        using InferenceSession session = OrtRunner.CreateSession(probe.ToByteArray(), null);
        string[] outputNames = session.OutputNames.ToArray();
        foreach (IReadOnlyDictionary<string, (float[] Data, long[] Shape)> batch in batches)
        {
            foreach ((string name, (float[] data, long[] _)) in batch)
            {
                Merge(ranges, name, data);
            }

            var inputs = batch.Select(p => OrtValue.CreateTensorValueFromMemory(p.Value.Data, p.Value.Shape)).ToList();
            try
            {
                using var runOptions = new RunOptions();
                using IDisposableReadOnlyCollection<OrtValue> outputs = session.Run(runOptions, batch.Keys.ToArray(), inputs, outputNames);
                for (int i = 0; i < outputNames.Length; i++)
                {
                    OrtValue value = outputs[i];
                    if (value.OnnxType == OnnxValueType.ONNX_TYPE_TENSOR && value.GetTensorTypeAndShape().ElementDataType == TensorElementType.Float)
                    {
                        Merge(ranges, outputNames[i], value.GetTensorDataAsSpan<float>());
                    }
                }
            }
            finally
            {
                inputs.ForEach(v => v.Dispose());
            }
        }

        return ranges;
    }

    /// <summary>Batches of <paramref name="batchSize"/> samples of a [N, ...] float array fed to <paramref name="inputName"/>.</summary>
    public static IEnumerable<IReadOnlyDictionary<string, (float[] Data, long[] Shape)>> Batches(string inputName, float[] samples, long[] sampleShape, int batchSize)
    {
        long sampleSize = sampleShape.Aggregate(1L, (a, b) => a * b);
        long count = samples.Length / sampleSize;
        for (long start = 0; start < count; start += batchSize)
        {
            long n = Math.Min(batchSize, count - start);
            float[] data = samples.AsSpan((int)(start * sampleSize), (int)(n * sampleSize)).ToArray();
            yield return new Dictionary<string, (float[], long[])> { [inputName] = (data, [n, .. sampleShape]) };
        }
    }

    private static void Merge(Dictionary<string, TensorRange> ranges, string name, ReadOnlySpan<float> values)
    {
        if (values.IsEmpty)
        {
            return;
        }

        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (float v in values)
        {
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }

        ranges[name] = ranges.TryGetValue(name, out TensorRange r) ? new TensorRange(Math.Min(r.Min, min), Math.Max(r.Max, max)) : new TensorRange(min, max);
    }
}
