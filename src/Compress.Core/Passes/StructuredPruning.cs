using System.Globalization;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Spec;

namespace Compress.Core.Passes;

/// <summary>
/// Structured pruning: removes whole output neurons of Gemm/MatMul and output channels of Conv
/// (group 1) — the ones with the smallest weight-row norm — and shrinks everything that depends on
/// them: the layer's bias, per-channel BatchNormalization parameters and Add/Mul constants on the way,
/// pass-through operators (Relu, pooling, Dropout, hard-swish x · HardSigmoid(x), …), depthwise Convs
/// (they lose the same channels and pass them on), squeeze-excitation gates (the Conv producing the gate
/// that multiplies the channels loses the same outputs), Flatten (each channel is a block of the flattened
/// features), and the input dimension of the next Gemm/MatMul/Conv. The model really gets smaller.
/// </summary>
/// <remarks>
/// A layer is left alone (and reported as skipped) when its channels reach a graph output, an Add with
/// another branch (a residual: both branches would have to be pruned alike, which this pass does not do),
/// a Mul with a tensor that does not come from a group-1 Conv, a Reshape, Concat or any
/// other operator that cannot follow a shrinking channel dimension, or a subgraph. Layers run in graph
/// order, so a layer whose inputs shrank is itself pruned next on its current weights.
/// </remarks>
public static class StructuredPruning
{
    /// <summary>The name this pass uses in reports.</summary>
    public const string PassName = "structured_pruning";

    /// <summary>Prunes <paramref name="model"/> in place and remembers the unpruned model for reconstruction.</summary>
    public static PassReport Run(ModelProto model, StructuredPruningOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        ReconstructionTeacher teacher = ReconstructionTeacher.Remember(model);
        var graph = new ModelGraph(model);
        var report = new PassReport(PassName);
        long removedTotal = 0;
        foreach (GraphNode node in graph.AllNodes().ToList())
        {
            NodeProto n = node.Node;
            if (!ModelGraph.IsDefaultDomain(n.Domain) || !options.OpTypes.Contains(n.OpType))
            {
                continue;
            }

            string label = MagnitudePruningWeight.NodeLabel(n);
            string? glob = options.NodesToExclude.FirstOrDefault(g => NodeNameGlob.IsMatch(g, label));
            string? reason = glob is not null ? $"excluded by nodes_to_exclude '{glob}'"
                : node.Graph != graph.Main ? "it is inside a subgraph (structured pruning edits the main graph only)"
                : null;
            if (reason is null && TryPrune(graph, node, options, teacher, out reason, out string? normFallback, out int before, out int kept, out long removed, out StructuredPruningPlan? plan) is { } keptOutputs)
            {
                teacher.RecordKeptOutputs(label, keptOutputs);
                foreach (NodeProto depthwise in plan!.Depthwise)
                {
                    teacher.RecordKeptOutputs(MagnitudePruningWeight.NodeLabel(depthwise), keptOutputs);
                }

                foreach (StructuredPruningCoupling coupled in plan.Coupled)
                {
                    teacher.RecordKeptOutputs(MagnitudePruningWeight.NodeLabel(coupled.Node), keptOutputs);
                }

                string through = plan.Depthwise.Count + plan.Coupled.Count == 0 ? string.Empty
                    : $"; through depthwise {string.Join(", ", plan.Depthwise.Select(MagnitudePruningWeight.NodeLabel))}{(plan.Coupled.Count == 0 ? string.Empty : $"; gate Convs {string.Join(", ", plan.Coupled.Select(c => MagnitudePruningWeight.NodeLabel(c.Node)))} follow")}";
                removedTotal += removed;
                report.AddCount("layers_pruned");
                report.AddCount("outputs_removed", before - kept);
                report.AddNote($"{label} ({n.OpType}): {before} -> {kept} outputs, {removed} parameters removed{through}{(normFallback is null ? string.Empty : $"; kept by weight norm because {normFallback}")}");
                continue;
            }

            report.AddSkipped(MagnitudePruning.Skipped(node, reason!));
        }

        report.AddCount("parameters_removed", removedTotal);
        string importance = options.ActivationData is null ? $"{options.Norm} norm of each output's weights"
            : "activations: the outputs the consuming layers need most to reproduce their original outputs on calibration data (least-squares, group OBS)";
        report.AddNote(string.Create(CultureInfo.InvariantCulture, $"ratio {options.Ratio}, kept outputs in multiples of {options.ChannelMultiple}, importance {importance}"));
        return report;
    }

    private static int[]? TryPrune(ModelGraph graph, GraphNode node, StructuredPruningOptions options, ReconstructionTeacher teacher, out string? reason, out string? normFallback, out int before, out int kept, out long removed, out StructuredPruningPlan? plan)
    {
        NodeProto n = node.Node;
        before = kept = 0;
        removed = 0;
        normFallback = null;
        plan = null;
        MagnitudePruningWeight? weight = MagnitudePruningWeight.Resolve(graph, node, out reason);
        if (weight is null)
        {
            return null;
        }

        if (weight.Nodes.Count != 1 || weight.Constant.Owner != graph.Main)
        {
            reason = "its weight is shared with other nodes or defined in another graph";
            return null;
        }

        if (n.OpType == "Conv" && ModelGraph.GetInt(n, "group", 1) != 1)
        {
            reason = "it is a grouped/depthwise Conv (its outputs are tied to its inputs; a depthwise Conv loses the channels the layer feeding it loses)";
            return null;
        }

        before = weight.Rows;
        int keepCount = options.KeptOutputs(before);
        if (keepCount >= before)
        {
            reason = options.ChannelMultiple > 1
                ? $"a ratio of {options.Ratio.ToString(CultureInfo.InvariantCulture)} with outputs kept in multiples of {options.ChannelMultiple} removes no output of its {before}"
                : $"a ratio of {options.Ratio.ToString(CultureInfo.InvariantCulture)} removes no output of its {before}";
            return null;
        }

        (StructuredPruningLayout layout, int rank) = n.OpType switch
        {
            "Conv" => (StructuredPruningLayout.Channels, weight.Constant.Dims.Count),
            "Gemm" => (StructuredPruningLayout.Features, 2),
            _ => (StructuredPruningLayout.LastAxis, 0),
        };
        (ConstantTensor, int)? bias = null;
        if (n.Input.Count > 2 && n.Input[2].Length > 0)
        {
            ConstantTensor? c = graph.Main.FindConstant(n.Input[2]);
            bool scalar = c?.Value is { } v && TensorData.ElementCount(v) == 1;
            bias = scalar ? null : StructuredPruningPlan.ChannelVector(graph, n, 2, rank: 1, axis: 0, before);
            if (!scalar && bias is null)
            {
                reason = "its bias is not a per-output constant read only there";
                return null;
            }
        }

        reason = StructuredPruningPlan.Trace(graph, n.Output[0], layout, rank, before, out plan);
        if (reason is not null)
        {
            return null;
        }

        int[] keep = Importance(weight, options.Norm);
        if (options.ActivationData is { } data)
        {
            // Outputs already narrowed (a gate Conv coupled to an earlier layer) no longer match the original's.
            if (teacher.KeptOutputs(MagnitudePruningWeight.NodeLabel(n)) is not null)
            {
                normFallback = "its outputs were narrowed with an earlier layer";
            }
            else
            {
                keep = StructuredPruningSelection.Rank(teacher.Model, plan.Sinks, before, keepCount, data, options.ActivationOptions, out normFallback) ?? keep;
            }
        }

        kept = keepCount;
        keep = [.. keep.Take(kept).Order()];

        removed += Reindex(graph, weight, bias, plan, keep, before);
        return keep;
    }

    /// <summary>
    /// Gives the layer of <paramref name="weight"/> the outputs <paramref name="keep"/> (indices into its <paramref name="channels"/>
    /// outputs, in order; -1 for a new all-zero output) and everything <paramref name="plan"/> traced the same channels: bias,
    /// per-channel constants, the inputs of the consuming layers, depthwise groups and coupled gate Convs. Returns the parameters
    /// removed (negative when zero outputs were added).
    /// </summary>
    internal static long Reindex(ModelGraph graph, MagnitudePruningWeight weight, (ConstantTensor Constant, int Axis)? bias, StructuredPruningPlan plan, int[] keep, int channels)
    {
        long removed = ShrinkRows(weight, keep);
        if (bias is { } b)
        {
            removed += ShrinkAxis(b.Constant, b.Axis, keep);
        }

        foreach ((ConstantTensor constant, int axis) in plan.ChannelVectors)
        {
            removed += ShrinkAxis(constant, axis, keep);
        }

        foreach (MagnitudePruningWeight sink in plan.Sinks)
        {
            removed += ShrinkColumns(sink, keep, channels);
        }

        // A depthwise Conv the channels flowed through computes one group per kept channel.
        foreach (NodeProto depthwise in plan.Depthwise)
        {
            depthwise.Attribute.Single(a => a.Name == "group").I = keep.Length;
        }

        // A squeeze-excitation gate multiplied with the channels loses the same ones.
        foreach (StructuredPruningCoupling coupled in plan.Coupled)
        {
            removed += ShrinkRows(coupled.Weight, keep);
            if (coupled.Bias is { } cb)
            {
                removed += ShrinkAxis(cb.Constant, cb.Axis, keep);
            }
        }

        // Declared shapes of the traced tensors are stale now; ORT infers them again.
        var stale = new HashSet<string>(plan.Tensors, StringComparer.Ordinal);
        for (int i = graph.Main.Graph.ValueInfo.Count - 1; i >= 0; i--)
        {
            if (stale.Contains(graph.Main.Graph.ValueInfo[i].Name))
            {
                graph.Main.Graph.ValueInfo.RemoveAt(i);
            }
        }

        return removed;
    }

    /// <summary>Output indices from most to least important (ties: lower index first).</summary>
    private static int[] Importance(MagnitudePruningWeight weight, StructuredPruningNorm norm)
    {
        float[] values = weight.Read();
        var score = new double[weight.Rows];
        for (int r = 0; r < weight.Rows; r++)
        {
            double s = 0;
            for (int c = 0; c < weight.Columns; c++)
            {
                double w = values[weight.Index(r, c)];
                s += norm == StructuredPruningNorm.L1 ? Math.Abs(w) : w * w;
            }

            score[r] = s;
        }

        return [.. Enumerable.Range(0, weight.Rows).OrderByDescending(r => score[r]).ThenBy(r => r)];
    }

    private static long ShrinkRows(MagnitudePruningWeight weight, int[] keep)
    {
        float[] values = weight.Read();
        long[] dims = [.. weight.Constant.Dims];
        var result = new float[(long)keep.Length * weight.Columns];
        for (int t = 0; t < keep.Length; t++)
        {
            for (int c = 0; c < weight.Columns; c++)
            {
                int index = weight.RowsAreContiguous ? (t * weight.Columns) + c : (c * keep.Length) + t;
                result[index] = keep[t] < 0 ? 0f : values[weight.Index(keep[t], c)];
            }
        }

        dims[weight.RowsAreContiguous ? 0 : 1] = keep.Length;
        return Replace(weight.Constant, dims, result, values.Length);
    }

    /// <summary>Keeps, for every output of a consuming layer, the input blocks of the kept channels (zeros for -1).</summary>
    private static long ShrinkColumns(MagnitudePruningWeight weight, int[] keep, int channels)
    {
        float[] values = weight.Read();
        long[] dims = [.. weight.Constant.Dims];
        int block = weight.Columns / channels;
        int columns = keep.Length * block;
        var result = new float[(long)weight.Rows * columns];
        for (int r = 0; r < weight.Rows; r++)
        {
            for (int t = 0; t < keep.Length; t++)
            {
                for (int j = 0; j < block; j++)
                {
                    int c = (t * block) + j;
                    int index = weight.RowsAreContiguous ? (r * columns) + c : (c * weight.Rows) + r;
                    result[index] = keep[t] < 0 ? 0f : values[weight.Index(r, (keep[t] * block) + j)];
                }
            }
        }

        if (weight.RowsAreContiguous)
        {
            dims[1] = weight.Nodes[0].Node.OpType == "Conv" ? keep.Length : columns;
        }
        else
        {
            dims[0] = columns;
        }

        return Replace(weight.Constant, dims, result, values.Length);
    }

    private static long ShrinkAxis(ConstantTensor constant, int axis, int[] keep)
    {
        float[] values = TensorData.ReadFloats(constant.Value!);
        long[] dims = [.. constant.Dims];
        long inner = dims.Skip(axis + 1).Aggregate(1L, (a, b) => a * b);
        long outer = dims.Take(axis).Aggregate(1L, (a, b) => a * b);
        long channels = dims[axis];
        var result = new float[outer * keep.Length * inner];
        long p = 0;
        for (long o = 0; o < outer; o++)
        {
            foreach (int k in keep)
            {
                if (k >= 0)
                {
                    Array.Copy(values, ((o * channels) + k) * inner, result, p, inner);
                }

                p += inner;
            }
        }

        dims[axis] = keep.Length;
        return Replace(constant, dims, result, values.Length);
    }

    private static long Replace(ConstantTensor constant, long[] dims, float[] values, long before)
    {
        ModelGraph.ReplaceConstant(constant, TensorData.CreateFloat(constant.Name, dims, values));
        return before - values.Length;
    }
}
