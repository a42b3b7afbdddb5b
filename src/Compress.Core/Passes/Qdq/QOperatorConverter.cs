using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;

namespace Compress.Core.Passes.Qdq;

/// <summary>
/// Rewrites QDQ node groups (DequantizeLinear inputs → op → QuantizeLinear output) into ONNX
/// Runtime's integer operators, the QOperator format of quantize_static: QLinearConv,
/// QLinearMatMul, com.microsoft QGemm / QLinearAdd / QLinearMul / QLinearConcat /
/// QLinearGlobalAveragePool / QLinearSigmoid, and data-movement ops run directly on the integer
/// tensor when input and output share parameters. Groups that do not match stay in QDQ form
/// (valid, and still fused by ORT); unused DequantizeLinear/QuantizeLinear nodes are removed.
/// </summary>
internal static class QOperatorConverter
{
    private static readonly HashSet<string> DataMovement = new(StringComparer.Ordinal)
    {
        "MaxPool", "Reshape", "Transpose", "Squeeze", "Unsqueeze", "Flatten", "Resize", "Gather", "Slice", "Identity",
    };

    /// <summary>Converts every matching group; returns how many were converted.</summary>
    public static int Convert(ModelGraph graph)
    {
        int converted = 0;
        bool contrib = false;
        foreach (GraphScope scope in graph.Graphs.ToList())
        {
            foreach (NodeProto node in scope.Graph.Node.ToList())
            {
                if (!ModelGraph.IsDefaultDomain(node.Domain) || node.Output.Count != 1)
                {
                    continue;
                }

                NodeProto? q = SoleQuantizeConsumer(graph, scope, node.Output[0]);
                NodeProto? replacement = q is null ? null : Build(graph, scope, node, q);
                if (replacement is null)
                {
                    continue;
                }

                contrib |= replacement.Domain == ModelGraph.MicrosoftDomain;
                graph.ReplaceNode(scope, node, [replacement]);
                graph.RemoveNode(scope, q!);
                converted++;
            }
        }

        RemoveUnused(graph);
        if (contrib)
        {
            graph.EnsureOpset(ModelGraph.MicrosoftDomain, 1);
        }

        return converted;
    }

    private static NodeProto? Build(ModelGraph graph, GraphScope scope, NodeProto node, NodeProto q)
    {
        string y = q.Output[0];
        string ys = q.Input[1];
        string yz = q.Input.Count > 2 ? q.Input[2] : string.Empty;
        string stem = node.Name.Length > 0 ? node.Name : node.Output[0];
        switch (node.OpType)
        {
            case "Conv":
            case "MatMul":
            {
                if (Dq(scope, node.Input[0]) is not { } x || Dq(scope, node.Input[1]) is not { } w || yz.Length == 0)
                {
                    return null;
                }

                var inputs = new List<string> { x[0], x[1], x[2], w[0], w[1], w[2], ys, yz };
                if (node.OpType == "Conv" && node.Input.Count > 2 && node.Input[2].Length > 0)
                {
                    if (Dq(scope, node.Input[2], isBias: true) is not { } b || !IsInt32(scope, b[0]))
                    {
                        return null;
                    }

                    inputs.Add(b[0]);
                }

                string op = node.OpType == "Conv" ? "QLinearConv" : "QLinearMatMul";
                NodeProto result = graph.CreateNode(op, graph.UniqueName(stem + "_quant"), inputs, [y]);
                result.Attribute.AddRange(node.Attribute);
                return result;
            }

            case "Gemm":
            {
                if (Dq(scope, node.Input[0]) is not { } a || Dq(scope, node.Input[1]) is not { } b || yz.Length == 0)
                {
                    return null;
                }

                var inputs = new List<string> { a[0], a[1], a[2], b[0], b[1], b[2] };
                if (node.Input.Count > 2 && node.Input[2].Length > 0)
                {
                    if (Dq(scope, node.Input[2], isBias: true) is not { } c || !IsInt32(scope, c[0]))
                    {
                        return null;
                    }

                    inputs.Add(c[0]);
                }
                else
                {
                    inputs.Add(string.Empty);
                }

                inputs.Add(ys);
                inputs.Add(yz);
                NodeProto result = graph.CreateNode("QGemm", graph.UniqueName(stem + "_quant"), inputs, [y], ModelGraph.MicrosoftDomain);
                // QGemm has alpha, transA and transB but no beta (ORT rejects the model): a quantized int32 bias exists only with beta = 1.
                result.Attribute.AddRange(node.Attribute.Where(a => a.Name is "alpha" or "transA" or "transB"));
                return result;
            }

            case "Add":
            case "Mul":
            {
                if (node.Input.Count != 2 || Dq(scope, node.Input[0]) is not { } a || Dq(scope, node.Input[1]) is not { } b || yz.Length == 0)
                {
                    return null;
                }

                return graph.CreateNode("QLinear" + node.OpType, graph.UniqueName(stem + "_quant"), [a[0], a[1], a[2], b[0], b[1], b[2], ys, yz], [y], ModelGraph.MicrosoftDomain);
            }

            case "GlobalAveragePool":
            case "Sigmoid":
            {
                if (Dq(scope, node.Input[0]) is not { } x || yz.Length == 0)
                {
                    return null;
                }

                NodeProto result = graph.CreateNode("QLinear" + node.OpType, graph.UniqueName(stem + "_quant"), [x[0], x[1], x[2], ys, yz], [y], ModelGraph.MicrosoftDomain);
                if (node.OpType == "GlobalAveragePool")
                {
                    result.Attribute.Add(new AttributeProto { Name = "channels_last", Type = AttributeProto.Types.AttributeType.Int, I = 0 });
                }

                return result;
            }

            case "Concat":
            {
                var inputs = new List<string> { ys, yz };
                foreach (string input in node.Input)
                {
                    if (Dq(scope, input) is not { } x || yz.Length == 0)
                    {
                        return null;
                    }

                    inputs.AddRange(x);
                }

                NodeProto result = graph.CreateNode("QLinearConcat", graph.UniqueName(stem + "_quant"), inputs, [y], ModelGraph.MicrosoftDomain);
                result.Attribute.AddRange(node.Attribute);
                return result;
            }

            default:
            {
                if (!DataMovement.Contains(node.OpType) || Dq(scope, node.Input[0]) is not { } x || !SameParameters(scope, x[1], x[2], ys, yz))
                {
                    return null;
                }

                NodeProto result = node.Clone();
                result.Input[0] = x[0];
                result.Output[0] = y;
                return result;
            }
        }
    }

    /// <summary>
    /// (quantized, scale, zero point) of the DequantizeLinear producing <paramref name="name"/>, or null.
    /// A bias DequantizeLinear has no zero point (QDQ omits the default 0); only its quantized input is used.
    /// </summary>
    private static string[]? Dq(GraphScope scope, string name, bool isBias = false)
    {
        NodeProto? producer = scope.Producer(name);
        if (producer is not { OpType: "DequantizeLinear" } || producer.Input.Count < (isBias ? 2 : 3))
        {
            return null;
        }

        return [producer.Input[0], producer.Input[1], producer.Input.Count > 2 ? producer.Input[2] : string.Empty];
    }

    private static NodeProto? SoleQuantizeConsumer(ModelGraph graph, GraphScope scope, string name)
    {
        if (scope.IsGraphOutput(name))
        {
            return null;
        }

        IReadOnlyList<GraphNode> uses = graph.FindUses(scope, name);
        return uses.Count == 1 && uses[0].Graph == scope && uses[0].Node.OpType == "QuantizeLinear" && uses[0].Node.Input[0] == name
            ? uses[0].Node
            : null;
    }

    private static bool IsInt32(GraphScope scope, string name) => scope.FindConstant(name)?.DataType == TensorProto.Types.DataType.Int32;

    private static bool SameParameters(GraphScope scope, string scaleA, string zeroA, string scaleB, string zeroB)
    {
        if (scaleA == scaleB && zeroA == zeroB)
        {
            return true;
        }

        TensorProto? sa = scope.FindConstant(scaleA)?.Value;
        TensorProto? sb = scope.FindConstant(scaleB)?.Value;
        TensorProto? za = scope.FindConstant(zeroA)?.Value;
        TensorProto? zb = scope.FindConstant(zeroB)?.Value;
        if (sa is null || sb is null || za is null || zb is null || za.DataType != zb.DataType)
        {
            return false;
        }

        return TensorData.ReadFloats(sa).SequenceEqual(TensorData.ReadFloats(sb))
            && TensorElementBytes(za).SequenceEqual(TensorElementBytes(zb));
    }

    private static byte[] TensorElementBytes(TensorProto tensor) => tensor.RawData.Length > 0
        ? tensor.RawData.ToByteArray()
        : tensor.Int32Data.Select(v => unchecked((byte)v)).ToArray();

    /// <summary>Removes Q/DQ nodes whose outputs nobody reads (repeatedly: a Q may only feed a removed DQ).</summary>
    private static void RemoveUnused(ModelGraph graph)
    {
        bool changed = true;
        while (changed)
        {
            changed = false;
            foreach (GraphScope scope in graph.Graphs)
            {
                foreach (NodeProto node in scope.Graph.Node.ToList())
                {
                    if (node.OpType is "QuantizeLinear" or "DequantizeLinear" && !graph.IsUsed(scope, node.Output[0]))
                    {
                        graph.RemoveNode(scope, node);
                        changed = true;
                    }
                }
            }
        }
    }
}
