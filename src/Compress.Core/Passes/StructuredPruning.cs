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
/// features), Resize on the spatial axes, a channel Concat read by group-1 Convs (they lose the columns at the
/// channels' offset), and the input dimension of the next Gemm/MatMul/Conv. The model really gets smaller.
/// </summary>
/// <remarks>
/// A layer is left alone (and reported as skipped) when its channels reach a graph output, an Add with
/// another branch (a residual: both branches would have to be pruned alike, which this pass does not do),
/// a Mul with a tensor that does not come from a group-1 Conv, a Reshape, a Concat read by anything but group-1 Convs, or any
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
        Dictionary<string, (int Kept, StructuredPruningCurve Curve)>? allocation = options.Scope == MagnitudePruningScope.Global ? Allocate(model, options, teacher, report) : null;
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
            if (reason is null && TryPrune(graph, node, options, teacher, allocation, out reason, out string? normFallback, out int before, out int kept, out long removed, out StructuredPruningPlan? plan) is { } keptOutputs)
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

                string through = (plan.Depthwise.Count == 0 ? string.Empty : $"; through depthwise {string.Join(", ", plan.Depthwise.Select(MagnitudePruningWeight.NodeLabel))}")
                    + (plan.Coupled.Count == 0 ? string.Empty : $"; gate Convs {string.Join(", ", plan.Coupled.Select(c => MagnitudePruningWeight.NodeLabel(c.Node)))} follow")
                    + (plan.OffsetSinks.Count == 0 ? string.Empty : $"; through a Concat into {string.Join(", ", plan.OffsetSinks.Select(s => $"{MagnitudePruningWeight.NodeLabel(s.Weight.Nodes[0].Node)} (channels {s.Offset}.. of {s.Total})"))}");
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
        string scope = allocation is null ? "per layer" : "global (shared by the consuming layers' relative least-squares error)";
        report.AddNote(string.Create(CultureInfo.InvariantCulture, $"ratio {options.Ratio} {scope}, kept outputs in multiples of {options.ChannelMultiple}, importance {importance}"));
        return report;
    }

    /// <summary>
    /// Global scope: measures every prunable layer's removal curve on a copy of the model, then removes as many
    /// multiply-adds as the per-layer cut would, where they cost the least error. Returns the kept count and curve per layer label.
    /// </summary>
    private static Dictionary<string, (int Kept, StructuredPruningCurve Curve)> Allocate(ModelProto model, StructuredPruningOptions options, ReconstructionTeacher teacher, PassReport report)
    {
        var graph = new ModelGraph(model.Clone());
        var labels = new List<string>();
        var curves = new List<StructuredPruningCurve>();
        var layers = new List<Prepared>();
        foreach (GraphNode node in graph.AllNodes().ToList())
        {
            NodeProto n = node.Node;
            string label = MagnitudePruningWeight.NodeLabel(n);
            if (!ModelGraph.IsDefaultDomain(n.Domain) || !options.OpTypes.Contains(n.OpType) || node.Graph != graph.Main
                || options.NodesToExclude.Any(g => NodeNameGlob.IsMatch(g, label)))
            {
                continue;
            }

            if (Prepare(graph, node, before => NothingToShare(before, options), out _) is { } prepared && prepared.Plan.OffsetSinks.Count == 0
                && Curve(teacher.Model, label, prepared.Plan.Sinks, prepared.Before, MinimumKept(prepared.Before, options), options, out _) is { } curve)
            {
                labels.Add(label);
                curves.Add(curve);
                layers.Add(prepared);
            }
        }

        // The shared cut saves as much compute as the per-layer cut would, counted on the model as it would be.
        Dictionary<string, long[]> shapes = StructuredPruningPositions.Measure(model, layers.SelectMany(l => StructuredPruningPositions.Outputs(l.Weight, l.Plan)), options.ActivationData!);
        var compute = StructuredPruningCompute.Build([.. layers.Select(l => (l.Weight, l.Plan, l.Before))], shapes);
        int[] whole = [.. curves.Select(c => c.Channels)];
        double all = compute.MultiplyAdds(whole);
        double budget = all - compute.MultiplyAdds([.. whole.Select(options.KeptOutputs)]);
        int[] kept = StructuredPruningAllocation.Allocate(curves, compute.MultiplyAdds, budget, options.ChannelMultiple);
        double cut = all - compute.MultiplyAdds(kept);
        report.AddNote(string.Create(CultureInfo.InvariantCulture, $"global allocation: {whole.Sum() - kept.Sum()} of {whole.Sum()} outputs of {curves.Count} measurable layers removed, {cut / all:P1} of their compute (the per-layer cut: {budget / all:P1})"));
        return labels.Select((l, i) => (l, i)).ToDictionary(p => p.l, p => (kept[p.i], curves[p.i]), StringComparer.Ordinal);
    }

    /// <summary>The activation-importance curve of a layer down to <paramref name="keep"/> outputs, through the options' memo when there is one.</summary>
    private static StructuredPruningCurve? Curve(ModelProto original, string label, IReadOnlyList<MagnitudePruningWeight> sinks, int channels, int keep, StructuredPruningOptions options, out string? reason) =>
        options.Curves is { } memo
            ? memo.Curve(original, label, sinks, channels, keep, options.ActivationData!, options.ActivationOptions, out reason)
            : StructuredPruningSelection.Curve(original, sinks, channels, keep, options.ActivationData!, options.ActivationOptions, out reason);

    /// <summary>
    /// The fewest outputs the global allocation may leave a layer: it loses at most twice the ratio (and keeps at least one
    /// channel multiple), because one layer's in-sample least-squares error is too optimistic to stake most of it on
    /// (on ocr-det's one calibration page the 20x20 layers have 400 rows for up to 385 unknowns).
    /// </summary>
    internal static int MinimumKept(int outputs, StructuredPruningOptions options) =>
        Math.Min(outputs, Math.Max(options.ChannelMultiple, outputs - (2 * (int)Math.Floor((options.Ratio * outputs) + 1e-9))));

    private static string? NothingToShare(int outputs, StructuredPruningOptions options) =>
        MinimumKept(outputs, options) < outputs ? null : $"with outputs kept in multiples of {options.ChannelMultiple}, none of its {outputs} can go";

    /// <summary>What a prunable layer is made of: its weight, bias, channel layout and where its channels flow.</summary>
    internal sealed record Prepared(MagnitudePruningWeight Weight, (ConstantTensor, int)? Bias, StructuredPruningPlan Plan, int Before);

    /// <summary>
    /// Resolves and traces a layer; <paramref name="tooFew"/> gives the reason to leave a layer of that many outputs alone
    /// (checked before the trace, so a layer nothing can be taken from is reported as such).
    /// </summary>
    internal static Prepared? Prepare(ModelGraph graph, GraphNode node, Func<int, string?> tooFew, out string? reason)
    {
        NodeProto n = node.Node;
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

        int before = weight.Rows;
        reason = tooFew(before);
        if (reason is not null)
        {
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

        reason = StructuredPruningPlan.Trace(graph, n.Output[0], layout, rank, before, out StructuredPruningPlan? plan);
        return reason is null ? new Prepared(weight, bias, plan!, before) : null;
    }

    private static int[]? TryPrune(ModelGraph graph, GraphNode node, StructuredPruningOptions options, ReconstructionTeacher teacher, Dictionary<string, (int Kept, StructuredPruningCurve Curve)>? allocation, out string? reason, out string? normFallback, out int before, out int kept, out long removed, out StructuredPruningPlan? plan)
    {
        before = kept = 0;
        removed = 0;
        normFallback = null;
        plan = null;
        Func<int, string?> tooFew = allocation is not null ? outputs => NothingToShare(outputs, options)
            : outputs => options.KeptOutputs(outputs) < outputs ? null
            : options.ChannelMultiple > 1
                ? $"a ratio of {options.Ratio.ToString(CultureInfo.InvariantCulture)} with outputs kept in multiples of {options.ChannelMultiple} removes no output of its {outputs}"
                : $"a ratio of {options.Ratio.ToString(CultureInfo.InvariantCulture)} removes no output of its {outputs}";
        if (Prepare(graph, node, tooFew, out reason) is not { } prepared)
        {
            return null;
        }

        NodeProto n = node.Node;
        string label = MagnitudePruningWeight.NodeLabel(n);
        MagnitudePruningWeight weight = prepared.Weight;
        (ConstantTensor, int)? bias = prepared.Bias;
        plan = prepared.Plan;
        before = prepared.Before;
        (int Kept, StructuredPruningCurve Curve)? shared = null;
        if (allocation is not null)
        {
            if (!allocation.TryGetValue(label, out (int Kept, StructuredPruningCurve Curve) entry) || entry.Curve.Channels != before)
            {
                reason = "its channels could not be measured on the activation data for the global allocation";
                return null;
            }

            shared = entry;
        }

        int keepCount = shared?.Kept ?? options.KeptOutputs(before);
        if (keepCount >= before)
        {
            reason = "the global allocation keeps all its outputs (removing them costs more than elsewhere)";
            return null;
        }

        int[] keep = Importance(weight, options.Norm);
        if (shared is { } s)
        {
            keep = s.Curve.Ranking(keepCount);
        }
        else if (options.ActivationData is not null)
        {
            // Outputs already narrowed (a gate Conv coupled to an earlier layer) no longer match the original's.
            if (teacher.KeptOutputs(label) is not null)
            {
                normFallback = "its outputs were narrowed with an earlier layer";
            }
            else if (plan.OffsetSinks.Count > 0)
            {
                normFallback = "its channels reach a Concat, whose reader the activation ranking does not model";
            }
            else
            {
                keep = Curve(teacher.Model, label, plan.Sinks, before, keepCount, options, out normFallback)?.Ranking(keepCount) ?? keep;
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

        // Through a Concat the channels are a slice of the reader's inputs: the columns before and after it stay.
        foreach ((MagnitudePruningWeight sink, int offset, int total) in plan.OffsetSinks)
        {
            int[] columns = [.. Enumerable.Range(0, offset), .. keep.Select(k => k < 0 ? -1 : offset + k), .. Enumerable.Range(offset + channels, total - offset - channels)];
            removed += ShrinkColumns(sink, columns, total);
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
