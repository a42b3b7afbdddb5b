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
