using Compress.Core.Calibration;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Tests.Passes;
using Compress.Runtime.Data;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;

namespace Compress.Core.Tests.Pruning;

/// <summary>Shared models and data for the pruning tests, and measurements taken independently of the passes.</summary>
internal static class PruningMaterial
{
    public static string DataPrefix(string model) => model switch
    {
        "digits-mlp" => "digits",
        "ocr-cls" => "cls",
        _ => "fashion",
    };

    public static CalibrationDataSet Calibration(ModelProto model, string name, int? samples = null) =>
        CalibrationDataSet.Open([SharedMaterial.DataPath($"{DataPrefix(name)}_calib_x.npy")], model, samples);

    /// <summary>Top-1 accuracy on the shared test set.</summary>
    public static double Accuracy(ModelProto model, string name)
    {
        NpyArray x = NpyArray.Load(SharedMaterial.DataPath($"{DataPrefix(name)}_test_x.npy"));
        long[] labels = NpyArray.Load(SharedMaterial.DataPath($"{DataPrefix(name)}_test_y.npy")).ToInt64Array();
        return WeightOnlyAndFloat16Evaluation.Accuracy(WeightOnlyAndFloat16Evaluation.Top1(model, x), labels);
    }

    /// <summary>Elements of every initializer and Constant-node value.</summary>
    public static long Parameters(ModelProto model) =>
        new ModelGraph(model).Graphs.Sum(g => g.Graph.Initializer.Sum(TensorData.ElementCount)
            + g.Graph.Node.Where(n => n.OpType == "Constant").Sum(n => ModelGraph.ConstantNodeValue(n, "v") is { } v ? TensorData.ElementCount(v) : 0));

    /// <summary>The main-graph initializer <paramref name="name"/> as floats.</summary>
    public static float[] Initializer(ModelProto model, string name) => TensorData.ReadFloats(model.Graph.Initializer.Single(t => t.Name == name));

    /// <summary>The values of <paramref name="tensor"/> for the first <paramref name="samples"/> samples of a data file.</summary>
    public static float[] Tensor(ModelProto model, string tensor, string dataFile, int samples)
    {
        ModelProto copy = model.Clone();
        if (copy.Graph.Output.All(o => o.Name != tensor))
        {
            copy.Graph.Output.Add(new ValueInfoProto { Name = tensor });
        }

        NpyArray x = NpyArray.Load(SharedMaterial.DataPath(dataFile));
        float[] data = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(x.SampleBytes(0, samples)).ToArray();
        long[] shape = [samples, .. x.Shape.Skip(1)];
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL, IntraOpNumThreads = 1 };
        using var session = new InferenceSession(copy.ToByteArray(), options);
        using OrtValue input = OrtValue.CreateTensorValueFromMemory(data, shape);
        using var run = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> outputs = session.Run(run, [session.InputNames[0]], [input], [tensor]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>‖a − b‖² / ‖b‖².</summary>
    public static double RelativeError(float[] a, float[] b)
    {
        Assert.That(a, Has.Length.EqualTo(b.Length));
        double error = 0, energy = 0;
        for (int i = 0; i < a.Length; i++)
        {
            error += (a[i] - (double)b[i]) * (a[i] - (double)b[i]);
            energy += (double)b[i] * b[i];
        }

        return error / energy;
    }

    /// <summary>The float weight (input 1) of every node of <paramref name="opType"/> in the main graph, by node.</summary>
    public static List<(NodeProto Node, TensorProto Weight)> Weights(ModelProto model, params string[] opTypes) =>
        [.. model.Graph.Node.Where(n => opTypes.Contains(n.OpType)).Select(n => (n, model.Graph.Initializer.Single(t => t.Name == n.Input[1])))];
}
