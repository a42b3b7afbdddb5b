using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;

namespace Compress.Core.Passes.Qdq;

/// <summary>
/// Turns a float <c>Relu → MaxPool</c> whose result is quantized into <c>MaxPool → Relu</c>. Both orders give the same
/// values (Relu is monotonic, so it commutes with a maximum), but ONNX Runtime's QDQ propagation pulls a QuantizeLinear
/// up through a MaxPool (not through a Relu), and then runs a uint8 MaxPool in NCHW, its generic and slow kernel
/// (fashion-cnn after its float first Conv: 2.9x fp32 latency before, 0.57x after). The Relu also runs on the pooled,
/// smaller tensor.
/// </summary>
internal static class PoolBeforeFloatActivation
{
    /// <summary>Swaps every such pair among the nodes not in <paramref name="selected"/>; returns how many.</summary>
    public static int Apply(ModelGraph graph, IReadOnlySet<NodeProto> selected)
    {
        int swapped = 0;
        foreach (GraphNode candidate in graph.AllNodes().ToList())
        {
            (GraphScope scope, NodeProto relu) = candidate;
            if (relu.OpType != "Relu" || !ModelGraph.IsDefaultDomain(relu.Domain) || selected.Contains(relu) || scope.IsGraphOutput(relu.Output[0]))
            {
                continue;
            }

            IReadOnlyList<GraphNode> uses = graph.FindUses(scope, relu.Output[0]);
            if (uses is not [{ Node: { OpType: "MaxPool" } pool } use] || use.Graph != scope || selected.Contains(pool)
                || !ModelGraph.IsDefaultDomain(pool.Domain) || pool.Output.Count(o => o.Length > 0) != 1 || pool.Input[0] != relu.Output[0])
            {
                continue;
            }

            // MaxPool keeps its output name on the Relu that now follows it, so plans keyed by that name stay valid.
            string pooled = graph.UniqueName(pool.Output[0] + "_before_relu");
            pool.Input[0] = relu.Input[0];
            relu.Input[0] = pooled;
            relu.Output[0] = pool.Output[0];
            pool.Output[0] = pooled;
            graph.RemoveNode(scope, relu);
            graph.InsertAfter(scope, pool, [relu]);
            swapped++;
        }

        return swapped;
    }
}
