using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;

namespace Compress.Core.Tests.Pruning;

/// <summary>Small models built in code for cases the shared models do not have.</summary>
internal static class PruningModels
{
    /// <summary>y = fc2(x + fc1(x)): fc1's outputs meet the graph input in an Add (a residual), fc2 produces the graph output.</summary>
    public static ModelProto ResidualGemms()
    {
        var graph = new GraphProto { Name = "residual" };
        graph.Input.Add(Float("x", 4));
        graph.Output.Add(Float("y", 3));
        graph.Initializer.Add(TensorData.CreateFloat("w1", [4, 4], Enumerable.Range(0, 16).Select(i => (i % 5) - 2f).ToArray()));
        graph.Initializer.Add(TensorData.CreateFloat("b1", [4], [0.1f, 0.2f, 0.3f, 0.4f]));
        graph.Initializer.Add(TensorData.CreateFloat("w2", [3, 4], Enumerable.Range(0, 12).Select(i => (i % 3) - 1f).ToArray()));
        graph.Node.Add(Node("Gemm", "fc1", ["x", "w1", "b1"], ["h"], transB: true));
        graph.Node.Add(Node("Add", "residual", ["x", "h"], ["s"], transB: false));
        graph.Node.Add(Node("Gemm", "fc2", ["s", "w2"], ["y"], transB: true));
        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = 17 });
        return model;
    }

    /// <summary>
    /// A feature-pyramid head in miniature: convB (2→4) and convA (2→8), each upsampled by a Resize (scales 1, 1, 2, 2),
    /// joined by a channel Concat (convB's channels first, so convA's sit at offset 4) and read by convC (12→3, 3x3).
    /// </summary>
    public static ModelProto ResizedConcat()
    {
        var graph = new GraphProto { Name = "fpn" };
        graph.Input.Add(new ValueInfoProto { Name = "x", Type = Passes.TinyModels.TensorType(TensorProto.Types.DataType.Float, 1, 2, 6, 6) });
        graph.Output.Add(new ValueInfoProto { Name = "y", Type = Passes.TinyModels.TensorType(TensorProto.Types.DataType.Float, 1, 3, 12, 12) });
        graph.Initializer.Add(TensorData.CreateFloat("wa", [8, 2, 1, 1], Passes.TinyModels.RandomValues(16, 51, 1f)));
        graph.Initializer.Add(TensorData.CreateFloat("ba", [8], Passes.TinyModels.RandomValues(8, 52, 0.5f)));
        graph.Initializer.Add(TensorData.CreateFloat("wb", [4, 2, 1, 1], Passes.TinyModels.RandomValues(8, 53, 1f)));
        graph.Initializer.Add(TensorData.CreateFloat("bb", [4], Passes.TinyModels.RandomValues(4, 54, 0.5f)));
        graph.Initializer.Add(TensorData.CreateFloat("wc", [3, 12, 3, 3], Passes.TinyModels.RandomValues(3 * 12 * 9, 55, 0.3f)));
        graph.Initializer.Add(TensorData.CreateFloat("bc", [3], [0.1f, -0.2f, 0.3f]));
        graph.Initializer.Add(TensorData.CreateFloat("scales", [4], [1f, 1f, 2f, 2f]));
        graph.Node.Add(Node("Conv", "convA", ["x", "wa", "ba"], ["a"], transB: false));
        graph.Node.Add(Node("Relu", "reluA", ["a"], ["ra"], transB: false));
        graph.Node.Add(Node("Resize", "upA", ["ra", "", "scales"], ["ua"], transB: false));
        graph.Node.Add(Node("Conv", "convB", ["x", "wb", "bb"], ["b"], transB: false));
        graph.Node.Add(Node("Relu", "reluB", ["b"], ["rb"], transB: false));
        graph.Node.Add(Node("Resize", "upB", ["rb", "", "scales"], ["ub"], transB: false));
        NodeProto concat = Node("Concat", "concat", ["ub", "ua"], ["cat"], transB: false);
        concat.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        graph.Node.Add(concat);
        NodeProto convC = Node("Conv", "convC", ["cat", "wc", "bc"], ["y"], transB: false);
        convC.Attribute.Add(new AttributeProto { Name = "pads", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 1, 1, 1, 1 } });
        graph.Node.Add(convC);
        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = 13 });
        return model;
    }

    private static NodeProto Node(string op, string name, string[] inputs, string[] outputs, bool transB)
    {
        var node = new NodeProto { OpType = op, Name = name };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        if (transB)
        {
            node.Attribute.Add(new AttributeProto { Name = "transB", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        }

        return node;
    }

    private static ValueInfoProto Float(string name, int features)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = features });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }
}
