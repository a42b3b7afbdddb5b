using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;

namespace Compress.Core.Tests.Passes;

/// <summary>Reads the integer tensors a quantized node uses and derives the worst-case error bound.</summary>
internal static class QuantizedModelProbe
{
    /// <summary>
    /// (weight, scale, zero point) tensors read by the integer node that replaced a MatMul/Gemm, for each such node;
    /// the zero point is null when the node has none (all zero, the operators' default).
    /// </summary>
    public static List<(TensorProto Weight, TensorProto Scale, TensorProto? ZeroPoint)> QuantizedWeights(ModelProto model)
    {
        var graph = new ModelGraph(model);
        var result = new List<(TensorProto, TensorProto, TensorProto?)>();
        foreach (GraphNode gn in graph.AllNodes())
        {
            NodeProto node = gn.Node;
            if (node.OpType == "MatMulInteger")
            {
                NodeProto dql = gn.Graph.Producer(node.Input[0])!;
                NodeProto scaleMul = gn.Graph.Consumers(dql.Output[1]).Single(n => n.OpType == "Mul");
                result.Add((Value(gn.Graph, node.Input[1]), Value(gn.Graph, scaleMul.Input[1]), OptionalValue(gn.Graph, node, 3)));
            }
            else if (node.OpType == "DynamicQuantizeMatMul")
            {
                result.Add((Value(gn.Graph, node.Input[1]), Value(gn.Graph, node.Input[2]), OptionalValue(gn.Graph, node, 3)));
            }
        }

        return result;
    }

    /// <summary>
    /// Worst-case |Y − Yq| for Y = X·W with W quantized at step s_w (per column) and X quantized at
    /// run time at step s_x = (max(x,0) − min(x,0)) / 255: rounding moves each weight by at most s_w/2
    /// and each activation by at most s_x/2, so
    /// |ΔY[m,n]| ≤ Σ_k (|x_mk|·s_w[n]/2 + |w_kn|·s_x/2 + s_x·s_w[n]/4), plus float rounding slack.
    /// </summary>
    public static float[] ErrorBound(float[] x, int rows, float[] weightKn, int k, int n, float[] weightScales)
    {
        float xMax = Math.Max(0f, x.Max());
        float xMin = Math.Min(0f, x.Min());
        float sx = (xMax - xMin) / 255f;
        var bound = new float[rows * n];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < n; c++)
            {
                float sw = weightScales.Length == 1 ? weightScales[0] : weightScales[c];
                double sum = 0;
                for (int i = 0; i < k; i++)
                {
                    sum += (Math.Abs(x[(r * k) + i]) * sw / 2) + (Math.Abs(weightKn[(i * n) + c]) * sx / 2) + (sx * sw / 4);
                }

                bound[(r * n) + c] = (float)(sum * 1.001) + 1e-5f;
            }
        }

        return bound;
    }

    private static TensorProto? OptionalValue(GraphScope scope, NodeProto node, int input) =>
        node.Input.Count > input && node.Input[input].Length > 0 ? Value(scope, node.Input[input]) : null;

    private static TensorProto Value(GraphScope scope, string name) =>
        scope.FindConstant(name)?.Value ?? throw new AssertionException($"'{name}' is not a constant");
}
