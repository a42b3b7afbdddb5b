using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;

namespace Compress.Core.Passes.Qdq;

/// <summary>
/// Removes a multiplication by a positive constant of a quantized tensor: <c>DQ(a, s, z) · c</c> is exactly
/// <c>DQ(a, s·c, z)</c>, so the consumers' DequantizeLinear reads the integer tensor <c>a</c> with the scale s·c, and
/// the Mul with its QuantizeLinear goes (or, read in float, the Mul becomes that DequantizeLinear). This is the <c>/ 6</c> of every spelled-out hard-swish (a Div by a constant is
/// a Mul by its reciprocal after clean-up): ocr-cls has 18, each a full QLinearMul pass over the tensor in ONNX
/// Runtime. The result is more precise than before, not less: the product is no longer rounded a second time.
/// </summary>
internal static class ConstantScaleIntoDequantize
{
    /// <summary>True for <c>Mul(x, c)</c> with a float scalar constant c &gt; 0 and x not constant: left float, then folded by <see cref="Apply"/>.</summary>
    public static bool IsCandidate(GraphScope scope, NodeProto node) => Scale(scope, node) is not null;

    /// <summary>
    /// Folds every <c>DequantizeLinear → Mul(·, c)</c>: when only QuantizeLinear → DequantizeLinear pairs read the product,
    /// those DequantizeLinear read the integer input with the scale s·c and the Mul and QuantizeLinear go; otherwise (float
    /// readers, such as a MaxPool left float) the Mul itself becomes that DequantizeLinear. Returns how many.
    /// </summary>
    public static int Apply(ModelGraph graph)
    {
        int folded = 0;
        foreach (GraphNode candidate in graph.AllNodes().ToList())
        {
            (GraphScope scope, NodeProto mul) = candidate;
            if (Scale(scope, mul) is not (int side, float constant)
                || scope.Producer(mul.Input[1 - side]) is not { OpType: "DequantizeLinear", Input.Count: >= 2 } input
                || scope.FindFloatScalar(input.Input[1]) is not float inputScale)
            {
                continue;
            }

            string scaleName = graph.UniqueName(mul.Output[0] + "_folded_scale");
            graph.AddConstant(scope, TensorData.CreateFloat(scaleName, [], [inputScale * constant]));
            if (RequantizedOnly(graph, scope, mul) is { } pairs)
            {
                foreach (NodeProto dequantize in pairs.Dequantizes)
                {
                    Dequantize(dequantize, input, scaleName);
                }

                graph.RemoveNode(scope, pairs.Quantize);
                graph.RemoveNode(scope, mul);
            }
            else
            {
                Dequantize(mul, input, scaleName);
            }

            if (!graph.IsUsed(scope, input.Output[0]))
            {
                graph.RemoveNode(scope, input);
            }

            folded++;
        }

        return folded;
    }

    /// <summary>The QuantizeLinear that alone reads the Mul's output and the DequantizeLinear nodes that alone read it, if so.</summary>
    private static (NodeProto Quantize, List<NodeProto> Dequantizes)? RequantizedOnly(ModelGraph graph, GraphScope scope, NodeProto mul)
    {
        if (scope.IsGraphOutput(mul.Output[0]) || graph.FindUses(scope, mul.Output[0]) is not [{ Node: { OpType: "QuantizeLinear" } quantize } use]
            || use.Graph != scope || scope.IsGraphOutput(quantize.Output[0]))
        {
            return null;
        }

        IReadOnlyList<GraphNode> dequantizes = graph.FindUses(scope, quantize.Output[0]);
        return dequantizes.Count == 0 || dequantizes.Any(d => d.Graph != scope || d.Node.OpType != "DequantizeLinear")
            ? null
            : (quantize, [.. dequantizes.Select(d => d.Node)]);
    }

    /// <summary>Turns <paramref name="node"/> into <c>DequantizeLinear(input's integer tensor, scale, input's zero point)</c>, keeping its output.</summary>
    private static void Dequantize(NodeProto node, NodeProto input, string scaleName)
    {
        node.OpType = "DequantizeLinear";
        node.Domain = input.Domain;
        node.Attribute.Clear();
        node.Input.Clear();
        node.Input.Add(input.Input[0]);
        node.Input.Add(scaleName);
        if (input.Input.Count > 2)
        {
            node.Input.Add(input.Input[2]);
        }
    }

    /// <summary>
    /// For <c>Mul(x, c)</c> (either order) with a float scalar constant c &gt; 0 and x not constant: which input is c, and
    /// its value; null for any other node.
    /// </summary>
    private static (int Side, float Value)? Scale(GraphScope scope, NodeProto mul)
    {
        if (mul is not { OpType: "Mul", Input.Count: 2, Output.Count: 1 } || !ModelGraph.IsDefaultDomain(mul.Domain))
        {
            return null;
        }

        for (int side = 0; side < 2; side++)
        {
            if (scope.FindFloatScalar(mul.Input[side]) is float c && float.IsNormal(c) && c > 0)
            {
                return scope.FindConstant(mul.Input[1 - side]) is null ? (side, c) : null;
            }
        }

        return null;
    }
}
