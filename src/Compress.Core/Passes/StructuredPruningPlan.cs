using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;

namespace Compress.Core.Passes;

/// <summary>
/// What removing output channels of one layer touches: tensors whose channel dimension shrinks
/// (traced through pass-through operators), per-channel constants (bias, BatchNormalization
/// parameters, per-channel Add/Mul operands) and the weights of the layers that read the channels.
/// Built by following the consumers of the layer's output; <see cref="Trace"/> gives the reason when
/// some consumer cannot follow (a residual Add, a Reshape, a graph output…).
/// </summary>
internal sealed class StructuredPruningPlan
{
    private static readonly HashSet<string> Elementwise = new(StringComparer.Ordinal)
    {
        "Relu", "LeakyRelu", "PRelu", "Sigmoid", "Tanh", "Elu", "Selu", "Celu", "Softplus", "Softsign", "HardSigmoid", "HardSwish",
        "Gelu", "Mish", "Identity", "Dropout", "Abs", "Neg", "Clip", "ThresholdedRelu", "Erf", "Exp", "Floor", "Ceil", "Round", "Sqrt", "Cast",
    };

    private static readonly HashSet<string> Pools = new(StringComparer.Ordinal)
    {
        "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "LpPool", "GlobalLpPool",
    };

    private static readonly HashSet<string> Binary = new(StringComparer.Ordinal) { "Add", "Sub", "Mul", "Div" };

    /// <summary>Tensors whose channel dimension shrinks (their value_info goes stale).</summary>
    public List<string> Tensors { get; } = [];

    /// <summary>Per-channel constants: the constant and the axis of it that holds the channels.</summary>
    public List<(ConstantTensor Constant, int Axis)> ChannelVectors { get; } = [];

    /// <summary>Weights of consuming layers whose inputs shrink.</summary>
    public List<MagnitudePruningWeight> Sinks { get; } = [];

    /// <summary>
    /// Group-1 Convs reading the channels through a channel Concat (a detector's feature-pyramid head): the channels are
    /// <c>Offset</c>.. of their <c>Total</c> input channels, and only those columns go.
    /// </summary>
    public List<(MagnitudePruningWeight Weight, int Offset, int Total)> OffsetSinks { get; } = [];

    /// <summary>Depthwise Convs the channels flow through: their group attribute becomes the kept count.</summary>
    public List<NodeProto> Depthwise { get; } = [];

    /// <summary>
    /// Group-1 Convs whose outputs gate the pruned channels (a squeeze-excitation's last Conv feeding a Mul):
    /// they lose the same output channels so the Mul stays aligned.
    /// </summary>
    public List<StructuredPruningCoupling> Coupled { get; } = [];

    /// <summary>Binary operators reached from one side whose other operand is not a constant: checked once the trace is complete.</summary>
    private List<(NodeProto Node, string Other, string Who)> Joins { get; } = [];

    /// <summary>Follows <paramref name="output"/> (channels = <paramref name="channels"/>); null when every consumer can follow, else the reason.</summary>
    public static string? Trace(ModelGraph graph, string output, StructuredPruningLayout layout, int rank, int channels, out StructuredPruningPlan plan)
    {
        plan = new StructuredPruningPlan();
        var work = new Queue<(string Tensor, StructuredPruningLayout Layout, int Rank)>();
        work.Enqueue((output, layout, rank));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        GraphScope main = graph.Main;
        while (work.Count > 0 || plan.Joins.Count > 0)
        {
            if (work.Count == 0)
            {
                // Every join must meet channels traced from this layer (x · HardSigmoid(x), or a gate coupled to it here).
                string? unjoined = plan.ResolveJoins(graph, channels, seen, work);
                if (unjoined is not null)
                {
                    return unjoined;
                }

                continue;
            }

            (string tensor, StructuredPruningLayout at, int r) = work.Dequeue();
            if (!seen.Add(tensor))
            {
                continue;
            }

            plan.Tensors.Add(tensor);
            if (main.IsGraphOutput(tensor))
            {
                return $"its outputs reach the graph output '{tensor}', whose shape must stay";
            }

            foreach (GraphNode use in graph.FindUses(main, tensor))
            {
                if (use.Graph != main)
                {
                    return $"'{tensor}' is read inside the subgraph {use.Graph.Path}";
                }

                string? reason = Follow(graph, plan, use.Node, tensor, at, r, channels, work);
                if (reason is not null)
                {
                    return reason;
                }
            }
        }

        // A gate Conv that also reads the pruned channels would lose inputs and outputs of one weight.
        List<MagnitudePruningWeight> sinks = plan.Sinks;
        StructuredPruningCoupling? both = plan.Coupled.FirstOrDefault(c => sinks.Any(sink => sink.Constant.Name == c.Weight.Constant.Name));
        return both is null ? null : $"the gate Conv {MagnitudePruningWeight.NodeLabel(both.Node)} multiplied with the pruned channels also reads them";
    }

    private static string? Follow(ModelGraph graph, StructuredPruningPlan plan, NodeProto node, string tensor, StructuredPruningLayout at, int rank, int channels, Queue<(string, StructuredPruningLayout, int)> work)
    {
        string who = $"{node.OpType} {MagnitudePruningWeight.NodeLabel(node)}";
        if (!ModelGraph.IsDefaultDomain(node.Domain))
        {
            return $"{who} (domain {node.Domain}) reads the pruned channels";
        }

        bool onlyFirstInput = node.Input.IndexOf(tensor) == 0 && node.Input.Count(i => i == tensor) == 1;
        if (Elementwise.Contains(node.OpType) || (Pools.Contains(node.OpType) && at == StructuredPruningLayout.Channels))
        {
            if (!onlyFirstInput || (node.OpType == "PRelu" && !IsScalarConstant(graph, node, 1)))
            {
                return $"{who} reads the pruned channels in a way that cannot follow them";
            }

            if (node.Output.Skip(1).Any(o => o.Length > 0 && graph.IsUsed(graph.Main, o)))
            {
                return $"{who} has a second output in use (mask or indices)";
            }

            work.Enqueue((node.Output[0], at, rank));
            return null;
        }

        switch (node.OpType)
        {
            case "BatchNormalization" when onlyFirstInput && at is StructuredPruningLayout.Channels or StructuredPruningLayout.Features:
                for (int i = 1; i < Math.Min(5, node.Input.Count); i++)
                {
                    if (ChannelVector(graph, node, i, rank: 1, axis: 0, channels) is not { } vector)
                    {
                        return $"{who}: parameter {i} is not a per-channel constant read only there";
                    }

                    plan.ChannelVectors.Add(vector);
                }

                if (node.Output.Skip(1).Any(o => o.Length > 0))
                {
                    return $"{who} is in training mode (running statistics are outputs)";
                }

                work.Enqueue((node.Output[0], at, rank));
                return null;
            case var op when Binary.Contains(op):
                int other = node.Input[0] == tensor ? 1 : 0;
                if (node.Input.Count != 2 || node.Input[other] == tensor)
                {
                    return $"{who} combines the pruned channels with themselves";
                }

                ConstantTensor? constant = graph.Main.FindConstant(node.Input[other]);
                if (constant?.Value is null)
                {
                    plan.Joins.Add((node, node.Input[other], who));
                    work.Enqueue((node.Output[0], at, rank));
                    return null;
                }

                if (TensorData.ElementCount(constant.Value) != 1)
                {
                    int axis = ConstantChannelAxis(constant.Dims, at, rank, channels);
                    if (axis < 0 || graph.FindUses(constant.Owner, constant.Name).Count != 1)
                    {
                        return $"{who}: its constant operand '{constant.Name}' [{string.Join(",", constant.Dims)}] is not a per-channel vector read only there";
                    }

                    plan.ChannelVectors.Add((constant, axis));
                }

                work.Enqueue((node.Output[0], at, rank));
                return null;
            case "Resize" when onlyFirstInput && at == StructuredPruningLayout.Channels:
                if (!ResizeKeepsChannels(graph, node))
                {
                    return $"{who} resizes the channel axis or is sized by a 'sizes' input";
                }

                work.Enqueue((node.Output[0], at, rank));
                return null;
            case "Concat" when at == StructuredPruningLayout.Channels:
                return AddThroughConcat(graph, plan, node, tensor, rank, channels, who);
            case "Flatten" when onlyFirstInput && ModelGraph.GetInt(node, "axis", 1) == 1 && at is StructuredPruningLayout.Channels or StructuredPruningLayout.Features:
                work.Enqueue((node.Output[0], StructuredPruningLayout.Flattened, 2));
                return null;
            case "Gemm" or "MatMul" when onlyFirstInput && at != StructuredPruningLayout.Channels && ModelGraph.GetInt(node, "transA", 0) == 0:
            case "Conv" when onlyFirstInput && at == StructuredPruningLayout.Channels && ModelGraph.GetInt(node, "group", 1) == 1:
                return AddSink(graph, plan, node, at, channels, who);
            case "Conv" when onlyFirstInput && at == StructuredPruningLayout.Channels && ModelGraph.GetInt(node, "group", 1) == channels:
                return AddDepthwise(graph, plan, node, channels, rank, who, work);
            default:
                return $"{who} reads the pruned channels and cannot follow them";
        }
    }

    private static string? AddSink(ModelGraph graph, StructuredPruningPlan plan, NodeProto node, StructuredPruningLayout at, int channels, string who)
    {
        MagnitudePruningWeight? weight = MagnitudePruningWeight.Resolve(graph, new GraphNode(graph.Main, node), out string? reason);
        if (weight is null)
        {
            return $"{who} reads the pruned channels but {reason}";
        }

        if (weight.Nodes.Count != 1)
        {
            return $"{who} reads the pruned channels but its weight is shared with other nodes";
        }

        bool fits = at == StructuredPruningLayout.Flattened
            ? weight.Columns % channels == 0
            : node.OpType == "Conv" ? weight.Constant.Dims[1] == channels : weight.Columns == channels;
        if (!fits)
        {
            return $"{who} has {weight.Columns} inputs per output, which does not match {channels} channels";
        }

        plan.Sinks.Add(weight);
        return null;
    }

    /// <summary>A depthwise Conv (group = channels, weight [channels, 1, k…]) loses the same channels and passes them on.</summary>
    private static string? AddDepthwise(ModelGraph graph, StructuredPruningPlan plan, NodeProto node, int channels, int rank, string who, Queue<(string, StructuredPruningLayout, int)> work)
    {
        ConstantTensor? weight = node.Input.Count > 1 ? graph.Main.FindConstant(node.Input[1]) : null;
        if (weight?.Value is null || weight.DataType != TensorProto.Types.DataType.Float || graph.FindUses(weight.Owner, weight.Name).Count != 1
            || weight.Dims.Count < 3 || weight.Dims[0] != channels || weight.Dims[1] != 1)
        {
            return $"{who} is grouped but not a depthwise Conv with its own constant weight [{channels}, 1, k…] (a channel multiplier or a shared weight)";
        }

        plan.ChannelVectors.Add((weight, 0));
        if (node.Input.Count > 2 && node.Input[2].Length > 0)
        {
            if (ChannelVector(graph, node, 2, rank: 1, axis: 0, channels) is not { } bias)
            {
                return $"{who}: its bias is not a per-channel constant read only there";
            }

            plan.ChannelVectors.Add(bias);
        }

        plan.Depthwise.Add(node);
        work.Enqueue((node.Output[0], StructuredPruningLayout.Channels, rank));
        return null;
    }

    /// <summary>
    /// Checks the joins met so far: the other operand carries the traced channels already, or (Mul only) it
    /// comes from a group-1 Conv through per-channel operators, which is then coupled and traced too.
    /// </summary>
    private string? ResolveJoins(ModelGraph graph, int channels, HashSet<string> seen, Queue<(string, StructuredPruningLayout, int)> work)
    {
        var joins = Joins.ToList();
        Joins.Clear();
        foreach ((NodeProto node, string other, string who) in joins)
        {
            if (seen.Contains(other))
            {
                continue;
            }

            if (node.OpType != "Mul")
            {
                return $"{who} adds another branch '{other}' (a residual): both branches would have to lose the same channels, which structured pruning does not do";
            }

            string? reason = Couple(graph, other, channels, out StructuredPruningCoupling? coupling);
            if (coupling is null)
            {
                return $"{who} multiplies the pruned channels with '{other}', which {reason}";
            }

            if (Coupled.Any(c => c.Node == coupling.Node))
            {
                continue;
            }

            Coupled.Add(coupling);
            work.Enqueue((coupling.Node.Output[0], StructuredPruningLayout.Channels, coupling.Weight.Constant.Dims.Count));
        }

        return null;
    }

    /// <summary>Walks back from <paramref name="tensor"/> through per-channel operators to the group-1 Conv that produces its channels.</summary>
    private static string? Couple(ModelGraph graph, string tensor, int channels, out StructuredPruningCoupling? coupling)
    {
        coupling = null;
        GraphScope main = graph.Main;
        for (int step = 0; step < 16; step++)
        {
            NodeProto? producer = main.Graph.Node.FirstOrDefault(n => n.Output.Contains(tensor));
            if (producer is null || !ModelGraph.IsDefaultDomain(producer.Domain))
            {
                return "does not come from a Conv of the main graph";
            }

            bool constantOperand = Binary.Contains(producer.OpType) && producer.Input.Count == 2 && main.FindConstant(producer.Input[1])?.Value is { } v && TensorData.ElementCount(v) == 1;
            if (Elementwise.Contains(producer.OpType) || producer.OpType == "BatchNormalization" || constantOperand)
            {
                tensor = producer.Input[0];
                continue;
            }

            if (producer.OpType != "Conv" || ModelGraph.GetInt(producer, "group", 1) != 1)
            {
                return $"comes from {producer.OpType} {MagnitudePruningWeight.NodeLabel(producer)}, not from a group-1 Conv whose outputs could follow";
            }

            MagnitudePruningWeight? weight = MagnitudePruningWeight.Resolve(graph, new GraphNode(main, producer), out string? why);
            if (weight is null || weight.Nodes.Count != 1 || weight.Rows != channels)
            {
                return $"comes from Conv {MagnitudePruningWeight.NodeLabel(producer)}, whose weight {why ?? $"is shared or has {weight?.Rows} outputs, not {channels}"}";
            }

            (ConstantTensor, int)? bias = null;
            if (producer.Input.Count > 2 && producer.Input[2].Length > 0)
            {
                bias = ChannelVector(graph, producer, 2, rank: 1, axis: 0, channels);
                if (bias is null)
                {
                    return $"comes from Conv {MagnitudePruningWeight.NodeLabel(producer)}, whose bias is not a per-output constant read only there";
                }
            }

            coupling = new StructuredPruningCoupling(producer, weight, bias);
            return null;
        }

        return "is too many operators away from a Conv";
    }

    /// <summary>A Resize whose constant scales leave the batch and channel axes alone (opset 11+: X, roi, scales; no sizes).</summary>
    private static bool ResizeKeepsChannels(ModelGraph graph, NodeProto node)
    {
        if (node.Input.Count < 3 || (node.Input.Count > 3 && node.Input[3].Length > 0))
        {
            return false;
        }

        ConstantTensor? scales = graph.Main.FindConstant(node.Input[2]);
        return scales?.Value is { } v && scales.DataType == TensorProto.Types.DataType.Float && TensorData.ReadFloats(v) is [1f, 1f, ..];
    }

    /// <summary>
    /// The channels enter a Concat on the channel axis: every reader of its output must be a group-1 Conv that loses the
    /// columns at the channels' offset. The other inputs' channel counts come from the Convs producing them.
    /// </summary>
    private static string? AddThroughConcat(ModelGraph graph, StructuredPruningPlan plan, NodeProto node, string tensor, int rank, int channels, string who)
    {
        long axis = ModelGraph.GetInt(node, "axis", 1);
        if ((axis != 1 && axis != 1 - rank) || node.Input.Count(i => i == tensor) != 1)
        {
            return $"{who} does not join the pruned channels once along the channel axis";
        }

        int offset = 0, total = 0;
        foreach (string input in node.Input)
        {
            int? count = input == tensor ? channels : ChannelsOf(graph, input);
            if (count is not int c)
            {
                return $"{who}: the channel count of its input '{input}' is not known from a Conv before it";
            }

            offset = input == tensor ? total : offset;
            total += c;
        }

        if (graph.Main.IsGraphOutput(node.Output[0]))
        {
            return $"{who}'s output is a graph output, whose shape must stay";
        }

        plan.Tensors.Add(node.Output[0]);
        foreach (GraphNode use in graph.FindUses(graph.Main, node.Output[0]))
        {
            NodeProto reader = use.Node;
            MagnitudePruningWeight? weight = reader.OpType == "Conv" && ModelGraph.IsDefaultDomain(reader.Domain) && ModelGraph.GetInt(reader, "group", 1) == 1
                && use.Graph == graph.Main && reader.Input.IndexOf(node.Output[0]) == 0
                ? MagnitudePruningWeight.Resolve(graph, use, out _) : null;
            if (weight is null || weight.Nodes.Count != 1 || weight.Constant.Dims[1] != total)
            {
                return $"{who}'s output is read by {reader.OpType} {MagnitudePruningWeight.NodeLabel(reader)}, not by a group-1 Conv with its own weight over all {total} channels";
            }

            if (plan.OffsetSinks.Any(s => s.Weight.Constant.Name == weight.Constant.Name))
            {
                return $"{who} receives the pruned channels along two paths";
            }

            plan.OffsetSinks.Add((weight, offset, total));
        }

        return null;
    }

    /// <summary>The channels of <paramref name="tensor"/>, walking back through per-channel operators to the Conv producing it.</summary>
    private static int? ChannelsOf(ModelGraph graph, string tensor)
    {
        GraphScope main = graph.Main;
        for (int step = 0; step < 16; step++)
        {
            if (main.Producer(tensor) is not { } producer || !ModelGraph.IsDefaultDomain(producer.Domain))
            {
                return null;
            }

            if (producer.OpType == "Conv")
            {
                return main.FindConstant(producer.Input[1]) is { Dims.Count: >= 3 } w ? (int)w.Dims[0] : null;
            }

            if (producer.OpType == "ConvTranspose")
            {
                return main.FindConstant(producer.Input[1]) is { Dims.Count: >= 3 } w ? (int)(w.Dims[1] * ModelGraph.GetInt(producer, "group", 1)) : null;
            }

            bool passThrough = Elementwise.Contains(producer.OpType) || Pools.Contains(producer.OpType) || Binary.Contains(producer.OpType)
                || producer.OpType is "BatchNormalization" or "Resize";
            if (!passThrough)
            {
                return null;
            }

            tensor = producer.Input[0];
        }

        return null;
    }

    /// <summary>The constant at input <paramref name="input"/> of <paramref name="node"/> when it has exactly <paramref name="channels"/> elements on one axis and is read only there.</summary>
    public static (ConstantTensor, int)? ChannelVector(ModelGraph graph, NodeProto node, int input, int rank, int axis, int channels)
    {
        if (input >= node.Input.Count || node.Input[input].Length == 0)
        {
            return null;
        }

        ConstantTensor? constant = graph.Main.FindConstant(node.Input[input]);
        if (constant?.Value is null || constant.DataType != TensorProto.Types.DataType.Float || graph.FindUses(constant.Owner, constant.Name).Count != 1)
        {
            return null;
        }

        IReadOnlyList<long> dims = constant.Dims;
        if (dims.Count == rank && dims[axis] == channels && TensorData.ElementCount(constant.Value) == channels)
        {
            return (constant, axis);
        }

        // Gemm's C may be [1, M].
        int only = dims.ToList().FindIndex(d => d == channels);
        return only >= 0 && TensorData.ElementCount(constant.Value) == channels ? (constant, only) : null;
    }

    /// <summary>The axis of a broadcast constant that lines up with the channel axis, or −1 when it does not broadcast per channel.</summary>
    private static int ConstantChannelAxis(IReadOnlyList<long> dims, StructuredPruningLayout at, int rank, int channels)
    {
        if (at == StructuredPruningLayout.Flattened)
        {
            return -1;
        }

        // Numpy broadcasting aligns from the right.
        int outputAxis = at == StructuredPruningLayout.LastAxis ? -1 : 1;
        int axis = at == StructuredPruningLayout.LastAxis ? dims.Count - 1 : dims.Count - (rank - outputAxis);
        if (axis < 0 || axis >= dims.Count || dims[axis] != channels)
        {
            return -1;
        }

        return dims.Where((d, i) => i != axis).All(d => d == 1) ? axis : -1;
    }

    private static bool IsScalarConstant(ModelGraph graph, NodeProto node, int input) =>
        input < node.Input.Count && graph.Main.FindConstant(node.Input[input]) is { Value: { } v } && TensorData.ElementCount(v) == 1;
}
