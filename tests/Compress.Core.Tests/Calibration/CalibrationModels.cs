using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Tests.Passes;

namespace Compress.Core.Tests.Calibration;

/// <summary>Small hand-built models whose activations the tests can compute exactly.</summary>
internal static class CalibrationModels
{
    public const int Features = 6;
    public const int Hidden = 5;

    /// <summary>W [Features,Hidden] of <see cref="ReluMatMul"/>.</summary>
    public static float[] Weights { get; } = TinyModels.RandomValues(Features * Hidden, 11);

    /// <summary>H = MatMul(X[batch,6], W[6,5]); Y = Relu(H).</summary>
    public static ModelProto ReluMatMul()
    {
        var graph = new GraphProto { Name = "relu_matmul" };
        graph.Input.Add(new ValueInfoProto { Name = "X", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, "batch", Features) });
        graph.Output.Add(new ValueInfoProto { Name = "Y", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, "batch", Hidden) });
        graph.Initializer.Add(TensorData.CreateFloat("W", [Features, Hidden], Weights));
        graph.Node.Add(TinyModels.Node("MatMul", "mm", ["X", "W"], ["H"]));
        graph.Node.Add(TinyModels.Node("Relu", "relu", ["H"], ["Y"]));
        return Model(graph, 13);
    }

    /// <summary>Y = Identity(X[batch,n]): the calibrated range of X (and Y) is the data's.</summary>
    public static ModelProto Identity(int width)
    {
        var graph = new GraphProto { Name = "identity" };
        graph.Input.Add(new ValueInfoProto { Name = "X", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, "batch", width) });
        graph.Output.Add(new ValueInfoProto { Name = "Y", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, "batch", width) });
        graph.Node.Add(TinyModels.Node("Identity", "id", ["X"], ["Y"]));
        return Model(graph, 13);
    }

    /// <summary>A = Add(X, X) then If(cond): then Relu(A), else Neg(A); the branch outputs live only inside the If.</summary>
    public static ModelProto BranchOnInput()
    {
        var graph = new GraphProto { Name = "branch" };
        graph.Input.Add(new ValueInfoProto { Name = "X", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, "batch", 4) });
        graph.Input.Add(new ValueInfoProto { Name = "cond", Type = TinyModels.TensorType(TensorProto.Types.DataType.Bool) });
        graph.Output.Add(new ValueInfoProto { Name = "Y", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, "batch", 4) });
        graph.Node.Add(TinyModels.Node("Add", "double", ["X", "X"], ["A"]));

        var thenBranch = new GraphProto { Name = "then_graph" };
        thenBranch.Node.Add(TinyModels.Node("Relu", "then_relu", ["A"], ["then_y"]));
        thenBranch.Output.Add(new ValueInfoProto { Name = "then_y", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, "batch", 4) });
        var elseBranch = new GraphProto { Name = "else_graph" };
        elseBranch.Node.Add(TinyModels.Node("Neg", "else_neg", ["A"], ["else_y"]));
        elseBranch.Output.Add(new ValueInfoProto { Name = "else_y", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, "batch", 4) });

        NodeProto ifNode = TinyModels.Node("If", "branch", ["cond"], ["Y"]);
        ifNode.Attribute.Add(new AttributeProto { Name = "then_branch", Type = AttributeProto.Types.AttributeType.Graph, G = thenBranch });
        ifNode.Attribute.Add(new AttributeProto { Name = "else_branch", Type = AttributeProto.Types.AttributeType.Graph, G = elseBranch });
        graph.Node.Add(ifNode);
        return Model(graph, 13);
    }

    /// <summary>X·W on the host, then Relu: the exact activations of <see cref="ReluMatMul"/>.</summary>
    public static float[] MatMul(float[] x, int rows)
    {
        var h = new float[rows * Hidden];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < Hidden; c++)
            {
                float sum = 0;
                for (int k = 0; k < Features; k++)
                {
                    sum += x[(r * Features) + k] * Weights[(k * Hidden) + c];
                }

                h[(r * Hidden) + c] = sum;
            }
        }

        return h;
    }

    private static ModelProto Model(GraphProto graph, long opset)
    {
        var model = new ModelProto { IrVersion = 8, ProducerName = "compress-tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = opset });
        return model;
    }
}
