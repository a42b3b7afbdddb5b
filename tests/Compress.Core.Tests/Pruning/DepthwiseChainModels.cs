using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;

namespace Compress.Core.Tests.Pruning;

/// <summary>
/// MobileNetV3-style blocks built in code: pw → BN → hard-swish → depthwise → BN → Clip (Relu6) [→ squeeze-excitation] → pw.
/// The odd channels of the first pointwise Conv have small weights (they are the ones pruned) and the layers
/// after it read nothing from them, so removing them leaves the output unchanged.
/// </summary>
internal static class DepthwiseChainModels
{
    public const int InputChannels = 4;
    public const int Channels = 8;
    public const int SqueezeChannels = 2;
    public const int Outputs = 3;

    public static ModelProto Build(bool squeezeExcitation)
    {
        var random = new Random(7);
        var graph = new GraphProto { Name = "depthwise_chain" };
        graph.Input.Add(Float("x", [1, InputChannels, 6, 6]));
        graph.Output.Add(Float("y", [1, Outputs, 6, 6]));

        // Odd channels: rows 50x smaller than the even ones, so an L2 ranking drops exactly them.
        graph.Initializer.Add(Tensor("w1", [Channels, InputChannels, 1, 1], i => Value(random) * ((i / InputChannels) % 2 == 1 ? 0.02f : 1f)));
        graph.Initializer.Add(Tensor("b1", [Channels], _ => Value(random)));
        AddBatchNorm(graph, random, "bn1");
        graph.Initializer.Add(Tensor("wd", [Channels, 1, 3, 3], _ => Value(random)));
        graph.Initializer.Add(Tensor("bd", [Channels], _ => Value(random)));
        AddBatchNorm(graph, random, "bn2");
        graph.Initializer.Add(TensorData.CreateFloat("clip_min", [], [0f]));
        graph.Initializer.Add(TensorData.CreateFloat("clip_max", [], [6f]));

        // Consumers read only the even channels.
        graph.Initializer.Add(Tensor("w2", [Outputs, Channels, 1, 1], i => i % Channels % 2 == 1 ? 0f : Value(random)));

        graph.Node.Add(Node("Conv", "pw1", ["x", "w1", "b1"], ["a"]));
        graph.Node.Add(Node("BatchNormalization", "bn1", ["a", "bn1_scale", "bn1_bias", "bn1_mean", "bn1_var"], ["b"]));
        NodeProto hardSigmoid = Node("HardSigmoid", "hs", ["b"], ["hs"]);
        hardSigmoid.Attribute.Add(new AttributeProto { Name = "alpha", Type = AttributeProto.Types.AttributeType.Float, F = 1f / 6 });
        graph.Node.Add(hardSigmoid);
        graph.Node.Add(Node("Mul", "hardswish", ["b", "hs"], ["c"]));
        NodeProto depthwise = Node("Conv", "dw", ["c", "wd", "bd"], ["d"]);
        depthwise.Attribute.Add(new AttributeProto { Name = "group", Type = AttributeProto.Types.AttributeType.Int, I = Channels });
        depthwise.Attribute.Add(new AttributeProto { Name = "pads", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 1, 1, 1, 1 } });
        graph.Node.Add(depthwise);
        graph.Node.Add(Node("BatchNormalization", "bn2", ["d", "bn2_scale", "bn2_bias", "bn2_mean", "bn2_var"], ["e"]));
        graph.Node.Add(Node("Clip", "relu6", ["e", "clip_min", "clip_max"], ["f"]));
        string main = "f";
        if (squeezeExcitation)
        {
            graph.Initializer.Add(Tensor("ws1", [SqueezeChannels, Channels, 1, 1], i => i % Channels % 2 == 1 ? 0f : Value(random)));
            graph.Initializer.Add(Tensor("bs1", [SqueezeChannels], _ => Value(random)));
            graph.Initializer.Add(Tensor("ws2", [Channels, SqueezeChannels, 1, 1], _ => Value(random)));
            graph.Initializer.Add(Tensor("bs2", [Channels], _ => Value(random)));
            graph.Node.Add(Node("GlobalAveragePool", "se_pool", ["f"], ["g"]));
            graph.Node.Add(Node("Conv", "se_reduce", ["g", "ws1", "bs1"], ["s1"]));
            graph.Node.Add(Node("Relu", "se_relu", ["s1"], ["s2"]));
            graph.Node.Add(Node("Conv", "se_expand", ["s2", "ws2", "bs2"], ["s3"]));
            graph.Node.Add(Node("HardSigmoid", "se_gate", ["s3"], ["s4"]));
            graph.Node.Add(Node("Mul", "se_scale", ["f", "s4"], ["h"]));
            main = "h";
        }

        graph.Node.Add(Node("Conv", "pw2", [main, "w2"], ["y"]));
        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = 13 });
        return model;
    }

    private static void AddBatchNorm(GraphProto graph, Random random, string name)
    {
        graph.Initializer.Add(Tensor($"{name}_scale", [Channels], _ => 0.5f + (float)random.NextDouble()));
        graph.Initializer.Add(Tensor($"{name}_bias", [Channels], _ => Value(random)));
        graph.Initializer.Add(Tensor($"{name}_mean", [Channels], _ => Value(random)));
        graph.Initializer.Add(Tensor($"{name}_var", [Channels], _ => 0.5f + (float)random.NextDouble()));
    }

    private static float Value(Random random) => (float)((random.NextDouble() * 2) - 1);

    private static TensorProto Tensor(string name, long[] dims, Func<int, float> value)
    {
        int count = (int)dims.Aggregate(1L, (a, b) => a * b);
        return TensorData.CreateFloat(name, dims, [.. Enumerable.Range(0, count).Select(i => value(i))]);
    }

    private static NodeProto Node(string op, string name, string[] inputs, string[] outputs)
    {
        var node = new NodeProto { OpType = op, Name = name };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        return node;
    }

    private static ValueInfoProto Float(string name, long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (long d in dims)
        {
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }
}
