using System.Globalization;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Microsoft.ML.OnnxRuntime;

namespace Compress.Core.Tests.Passes;

/// <summary>Hand-built Conv / LSTM models with seeded weights for the dynamic Conv/LSTM and clean-up tests, and a multi-input runner.</summary>
internal static class DynamicConvModels
{
    /// <summary>
    /// Y = Conv(X[N,C,H,W], W[M,C/group,k…]) with bias and the given attributes; spatial rank =
    /// <paramref name="kernel"/>.Length. Optionally followed by a second op (returned graph output is Y).
    /// </summary>
    public static ModelProto Conv(int c, int m, int[] kernel, int group = 1, long[]? pads = null, long[]? strides = null, long[]? dilations = null,
        bool bias = true, long opset = 13, string op = "Conv", int seed = 11)
    {
        var graph = new GraphProto { Name = "conv" };
        object[] spatial = kernel.Select((_, i) => (object)$"s{i}").ToArray();
        graph.Input.Add(new ValueInfoProto { Name = "X", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, ["n", c, .. spatial]) });
        graph.Output.Add(new ValueInfoProto { Name = "Y", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, ["n", m, .. kernel.Select((_, i) => (object)$"o{i}")]) });
        long[] wDims = op == "Conv" ? [m, c / group, .. kernel.Select(k => (long)k)] : [c, m / group, .. kernel.Select(k => (long)k)];
        int count = (int)wDims.Aggregate(1L, (a, b) => a * b);
        graph.Initializer.Add(TensorData.CreateFloat("W", wDims, TinyModels.RandomValues(count, seed, 0.5f)));
        var inputs = new List<string> { "X", "W" };
        if (bias)
        {
            graph.Initializer.Add(TensorData.CreateFloat("B", [m], TinyModels.RandomValues(m, seed + 1, 1f)));
            inputs.Add("B");
        }

        NodeProto node = TinyModels.Node(op, "conv", inputs, ["Y"]);
        AddInts(node, "pads", pads);
        AddInts(node, "strides", strides);
        AddInts(node, "dilations", dilations);
        if (group != 1)
        {
            node.Attribute.Add(new AttributeProto { Name = "group", Type = AttributeProto.Types.AttributeType.Int, I = group });
        }

        graph.Node.Add(node);
        return Model(graph, opset);
    }

    /// <summary>
    /// Y, Y_h = LSTM(X[T,N,I], W[D,4H,I], R[D,4H,H], B[D,8H], initial_h/c[D,N,H]) with the given
    /// direction; X, initial_h and initial_c are graph inputs.
    /// </summary>
    public static ModelProto Lstm(int inputSize, int hidden, string direction, int seed = 21)
    {
        int d = direction == "bidirectional" ? 2 : 1;
        var graph = new GraphProto { Name = "lstm" };
        graph.Input.Add(new ValueInfoProto { Name = "X", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, "t", "n", inputSize) });
        graph.Input.Add(new ValueInfoProto { Name = "h0", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, d, "n", hidden) });
        graph.Input.Add(new ValueInfoProto { Name = "c0", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, d, "n", hidden) });
        graph.Output.Add(new ValueInfoProto { Name = "Y", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, "t", d, "n", hidden) });
        graph.Output.Add(new ValueInfoProto { Name = "Y_h", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, d, "n", hidden) });
        graph.Initializer.Add(TensorData.CreateFloat("W", [d, 4 * hidden, inputSize], TinyModels.RandomValues(d * 4 * hidden * inputSize, seed, 0.4f)));
        graph.Initializer.Add(TensorData.CreateFloat("R", [d, 4 * hidden, hidden], TinyModels.RandomValues(d * 4 * hidden * hidden, seed + 1, 0.4f)));
        graph.Initializer.Add(TensorData.CreateFloat("B", [d, 8 * hidden], TinyModels.RandomValues(d * 8 * hidden, seed + 2, 0.2f)));
        NodeProto lstm = TinyModels.Node("LSTM", "lstm", ["X", "W", "R", "B", string.Empty, "h0", "c0"], ["Y", "Y_h"]);
        lstm.Attribute.Add(new AttributeProto { Name = "hidden_size", Type = AttributeProto.Types.AttributeType.Int, I = hidden });
        lstm.Attribute.Add(new AttributeProto { Name = "direction", Type = AttributeProto.Types.AttributeType.String, S = Google.Protobuf.ByteString.CopyFromUtf8(direction) });
        lstm.Attribute.Add(new AttributeProto { Name = "layout", Type = AttributeProto.Types.AttributeType.Int, I = 0 });
        graph.Node.Add(lstm);
        return Model(graph, 14);
    }

    public static ModelProto Model(GraphProto graph, long opset, long irVersion = 8)
    {
        var model = new ModelProto { IrVersion = irVersion, ProducerName = "compress-tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = opset });
        return model;
    }

    /// <summary>Runs <paramref name="model"/> on float inputs and returns the named float outputs.</summary>
    public static float[][] Run(ModelProto model, IReadOnlyDictionary<string, (float[] Data, long[] Shape)> inputs, params string[] outputs)
    {
        using InferenceSession session = OrtRunner.CreateSession(Google.Protobuf.MessageExtensions.ToByteArray(model), null);
        return Run(session, inputs, outputs);
    }

    public static float[][] Run(InferenceSession session, IReadOnlyDictionary<string, (float[] Data, long[] Shape)> inputs, params string[] outputs)
    {
        var values = inputs.Values.Select(v => OrtValue.CreateTensorValueFromMemory(v.Data, v.Shape)).ToList();
        try
        {
            using var runOptions = new RunOptions();
            using IDisposableReadOnlyCollection<OrtValue> results = session.Run(runOptions, inputs.Keys.ToArray(), values, outputs);
            return results.Select(r => r.GetTensorDataAsSpan<float>().ToArray()).ToArray();
        }
        finally
        {
            values.ForEach(v => v.Dispose());
        }
    }

    /// <summary>max |a − b| / max |b|: the relative L∞ difference.</summary>
    public static double RelativeMaxDifference(float[] actual, float[] expected)
    {
        double difference = 0, scale = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            difference = Math.Max(difference, Math.Abs(actual[i] - expected[i]));
            scale = Math.Max(scale, Math.Abs(expected[i]));
        }

        return difference / scale;
    }

    public static string Describe(IEnumerable<long> dims) => "[" + string.Join(",", dims.Select(d => d.ToString(CultureInfo.InvariantCulture))) + "]";

    private static void AddInts(NodeProto node, string name, long[]? values)
    {
        if (values is not null)
        {
            var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
            attribute.Ints.AddRange(values);
            node.Attribute.Add(attribute);
        }
    }
}
