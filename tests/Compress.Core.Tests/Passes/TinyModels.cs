using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;

namespace Compress.Core.Tests.Passes;

/// <summary>Small hand-built models with seeded random weights.</summary>
internal static class TinyModels
{
    public const int K = 24;
    public const int N = 10;

    public static float[] RandomValues(int count, int seed, float scale = 1f)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() * 2) - 1) * scale).ToArray();
    }

    /// <summary>Y = MatMul(X[batch,K], W[K,N]) with W an initializer.</summary>
    public static ModelProto MatMul(long opset = 13, string nodeName = "mm")
    {
        GraphProto graph = Graph(["X"], ["Y"], N);
        graph.Initializer.Add(TensorData.CreateFloat("W", [K, N], RandomValues(K * N, 1)));
        graph.Node.Add(Node("MatMul", nodeName, ["X", "W"], ["Y"]));
        return Model(graph, opset);
    }

    /// <summary>Y = Gemm(X[batch,K], B, C) with the given attributes; C of <paramref name="biasDims"/> (null: no C).</summary>
    public static ModelProto Gemm(float alpha, float beta, bool transB, long[]? biasDims, long opset = 13)
    {
        GraphProto graph = Graph(["X"], ["Y"], N);
        long[] bDims = transB ? [N, K] : [K, N];
        graph.Initializer.Add(TensorData.CreateFloat("B", bDims, RandomValues(K * N, 2)));
        var inputs = new List<string> { "X", "B" };
        if (biasDims is not null)
        {
            int count = (int)biasDims.Aggregate(1L, (a, b) => a * b);
            graph.Initializer.Add(TensorData.CreateFloat("C", biasDims, RandomValues(count, 3, 2f)));
            inputs.Add("C");
        }

        NodeProto gemm = Node("Gemm", "gemm", inputs, ["Y"]);
        gemm.Attribute.Add(new AttributeProto { Name = "alpha", Type = AttributeProto.Types.AttributeType.Float, F = alpha });
        gemm.Attribute.Add(new AttributeProto { Name = "beta", Type = AttributeProto.Types.AttributeType.Float, F = beta });
        gemm.Attribute.Add(new AttributeProto { Name = "transB", Type = AttributeProto.Types.AttributeType.Int, I = transB ? 1 : 0 });
        graph.Node.Add(gemm);
        return Model(graph, opset);
    }

    /// <summary>Y1 = X·W, Y = Y1·W: one square weight [K,K] read by two MatMuls (mm1, mm2).</summary>
    public static ModelProto SharedWeight()
    {
        GraphProto graph = Graph(["X"], ["Y"], K);
        graph.Initializer.Add(TensorData.CreateFloat("W", [K, K], RandomValues(K * K, 4, 0.3f)));
        graph.Node.Add(Node("MatMul", "mm1", ["X", "W"], ["Y1"]));
        graph.Node.Add(Node("MatMul", "mm2", ["Y1", "W"], ["Y"]));
        return Model(graph, 13);
    }

    /// <summary>
    /// Y = If(cond): then X·W_outer (a top-level initializer), else X·W_local (an initializer of the
    /// else branch).
    /// </summary>
    public static ModelProto MatMulInIf()
    {
        GraphProto graph = Graph(["X"], ["Y"], N);
        graph.Input.Add(new ValueInfoProto { Name = "cond", Type = TensorType(TensorProto.Types.DataType.Bool) });
        graph.Initializer.Add(TensorData.CreateFloat("W_outer", [K, N], RandomValues(K * N, 5)));

        var thenBranch = new GraphProto { Name = "then_graph" };
        thenBranch.Node.Add(Node("MatMul", "then_mm", ["X", "W_outer"], ["then_y"]));
        thenBranch.Output.Add(new ValueInfoProto { Name = "then_y", Type = TensorType(TensorProto.Types.DataType.Float, "batch", N) });

        var elseBranch = new GraphProto { Name = "else_graph" };
        elseBranch.Initializer.Add(TensorData.CreateFloat("W_local", [K, N], RandomValues(K * N, 6)));
        elseBranch.Node.Add(Node("MatMul", "else_mm", ["X", "W_local"], ["else_y"]));
        elseBranch.Output.Add(new ValueInfoProto { Name = "else_y", Type = TensorType(TensorProto.Types.DataType.Float, "batch", N) });

        NodeProto ifNode = Node("If", "branch", ["cond"], ["Y"]);
        ifNode.Attribute.Add(new AttributeProto { Name = "then_branch", Type = AttributeProto.Types.AttributeType.Graph, G = thenBranch });
        ifNode.Attribute.Add(new AttributeProto { Name = "else_branch", Type = AttributeProto.Types.AttributeType.Graph, G = elseBranch });
        graph.Node.Add(ifNode);
        return Model(graph, 13);
    }

    public static NodeProto Node(string op, string name, IEnumerable<string> inputs, IEnumerable<string> outputs)
    {
        var node = new NodeProto { OpType = op, Name = name };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        return node;
    }

    public static TypeProto TensorType(TensorProto.Types.DataType type, params object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (object d in dims)
        {
            shape.Dim.Add(d is string p ? new TensorShapeProto.Types.Dimension { DimParam = p } : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(d, System.Globalization.CultureInfo.InvariantCulture) });
        }

        return new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } };
    }

    private static GraphProto Graph(string[] inputs, string[] outputs, int outputWidth)
    {
        var graph = new GraphProto { Name = "tiny" };
        foreach (string i in inputs)
        {
            graph.Input.Add(new ValueInfoProto { Name = i, Type = TensorType(TensorProto.Types.DataType.Float, "batch", K) });
        }

        foreach (string o in outputs)
        {
            graph.Output.Add(new ValueInfoProto { Name = o, Type = TensorType(TensorProto.Types.DataType.Float, "batch", outputWidth) });
        }

        return graph;
    }

    private static ModelProto Model(GraphProto graph, long opset)
    {
        var model = new ModelProto { IrVersion = 8, ProducerName = "compress-tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = opset });
        return model;
    }
}
