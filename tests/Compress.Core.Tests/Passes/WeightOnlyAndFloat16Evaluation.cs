using System.Runtime.InteropServices;
using Compress.Core.Onnx.Proto;
using Compress.Runtime.Data;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using OrtFloat16 = Microsoft.ML.OnnxRuntime.Float16;

namespace Compress.Core.Tests.Passes;

/// <summary>
/// Runs a single-input classifier over a shared test set in batches and returns the arg-max per
/// sample; feeds float16 when the model's input is float16 and reads float16 outputs likewise.
/// </summary>
internal static class WeightOnlyAndFloat16Evaluation
{
    public static int[] Top1(ModelProto model, NpyArray x, int batch = 250)
    {
        using InferenceSession session = OrtRunner.CreateSession(model.ToByteArray(), null);
        string input = session.InputNames[0];
        string output = session.OutputNames[0];
        bool halfInput = session.InputMetadata[input].ElementDataType == TensorElementType.Float16;
        long rows = x.Shape[0];
        long[] sampleShape = x.Shape.Skip(1).ToArray();
        var result = new List<int>();
        for (long start = 0; start < rows; start += batch)
        {
            long count = Math.Min(batch, rows - start);
            float[] data = MemoryMarshal.Cast<byte, float>(x.SampleBytes(start, count)).ToArray();
            long[] shape = [count, .. sampleShape];
            using OrtValue value = halfInput
                ? OrtValue.CreateTensorValueFromMemory(data.Select(v => (OrtFloat16)v).ToArray(), shape)
                : OrtValue.CreateTensorValueFromMemory(data, shape);
            using var runOptions = new RunOptions();
            using IDisposableReadOnlyCollection<OrtValue> outputs = session.Run(runOptions, [input], [value], [output]);
            float[] logits = ReadFloats(outputs[0]);
            result.AddRange(OrtRunner.ArgMax(logits, (int)(logits.Length / count)));
        }

        return [.. result];
    }

    /// <summary>The values of a float or float16 tensor as float.</summary>
    public static float[] ReadFloats(OrtValue value) =>
        value.GetTensorTypeAndShape().ElementDataType == TensorElementType.Float16
            ? value.GetTensorDataAsSpan<OrtFloat16>().ToArray().Select(h => h.ToFloat()).ToArray()
            : value.GetTensorDataAsSpan<float>().ToArray();

    public static double Agreement(int[] a, int[] b) => a.Zip(b).Count(p => p.First == p.Second) / (double)a.Length;

    public static double Accuracy(int[] predicted, long[] labels) => predicted.Zip(labels).Count(p => p.First == p.Second) / (double)labels.Length;
}
