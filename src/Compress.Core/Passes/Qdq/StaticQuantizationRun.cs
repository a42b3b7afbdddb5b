using System.Globalization;
using Compress.Core.Calibration;
using Compress.Core.Evaluation;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Spec;

namespace Compress.Core.Passes.Qdq;

/// <summary>One run of <see cref="StaticQuantization"/>: node selection, Relu/Clip folding, the tensor plan and QDQ emission.</summary>
internal sealed class StaticQuantizationRun(
    ModelGraph graph,
    IReadOnlyDictionary<string, TensorRange> ranges,
    StaticQuantizationOptions options,
    PassReport report,
    bool perChannelAllowed,
    bool int8MaxPool)
{
    private readonly Dictionary<(GraphScope Scope, string Name), TensorPlan> _plans = [];
    private readonly List<(GraphScope Scope, string Name)> _planOrder = [];
    private bool _sixteenBitNoted;
    private readonly HashSet<NodeProto> _selectedNodes = new(ReferenceEqualityComparer.Instance);
    private long _zeroWeightsAdded;
    private int _perTensorDepthwise;
    // Calibrated ranges plus those of tensors this run creates (zero-padded Conv inputs).
    private readonly Dictionary<string, TensorRange> _ranges = new(ranges, StringComparer.Ordinal);
    private readonly Dictionary<string, (QuantizationNames.Unit Names, string Quantized, string Scale, string ZeroPoint, QuantizedWeight Weight)> _weights = new(StringComparer.Ordinal);
    private readonly QuantizationNames _names = new(graph);
    private readonly Dictionary<(GraphScope Scope, string Key), string> _weightDequantized = [];
    private readonly List<ConstantTensor> _replacedConstants = [];

    /// <summary>Selects, plans and emits; fills the report.</summary>
    public void Execute()
    {
        if (options.OpTypesToQuantize.Contains("Conv", StringComparer.Ordinal))
        {
            (List<string> notes, long zeros) = DepthwiseChannelPadding.Apply(graph, depthwise => SelectionReason(depthwise) is null);
            notes.ForEach(report.AddNote);
            _zeroWeightsAdded += zeros;
        }

        var selected = new List<GraphNode>();
        var leftFloat = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (GraphNode candidate in graph.AllNodes().ToList())
        {
            NodeProto node = candidate.Node;
            if (!ModelGraph.IsDefaultDomain(node.Domain) || node.OpType == "Constant")
            {
                continue;
            }

            StaticOpRole role = StaticOpRoles.Of(node.OpType);
            if (role == StaticOpRole.None)
            {
                leftFloat[node.OpType] = leftFloat.GetValueOrDefault(node.OpType) + 1;
                continue;
            }

            if (!options.OpTypesToQuantize.Contains(node.OpType, StringComparer.Ordinal))
            {
                continue;
            }

            string? reason = SelectionReason(candidate) ?? CheckQuantizable(candidate, role);
            if (reason is not null)
            {
                report.AddSkipped(new SkippedNode(NodeLabels.Of(node), node.OpType, candidate.Graph.Path, reason));
                continue;
            }

            selected.Add(candidate);
        }

        if (leftFloat.Count > 0)
        {
            report.AddNote("left in float (no int8 kernel in this pass): " + string.Join(", ", leftFloat.Select(p => $"{p.Value} {p.Key}")));
        }

        selected = DropDataMovementOnFloatInputs(selected);
        selected = DropIslandsWithoutIntegerKernel(selected);
        selected = FoldActivations(selected);
        selected = LeaveConstantScalingsToDequantize(selected);
        int hardSwishes = FuseFloatHardSwishes(selected);
        if (hardSwishes > 0)
        {
            report.AddNote($"{hardSwishes} hard-swish(es) left in float written as x · HardSigmoid(x) (ONNX Runtime fuses it into a float Conv before it)");
        }

        int pools = PoolBeforeFloatActivation.Apply(graph, new HashSet<NodeProto>(selected.Select(n => n.Node), ReferenceEqualityComparer.Instance));
        if (pools > 0)
        {
            report.AddNote($"{pools} float Relu → MaxPool pair(s) reordered to MaxPool → Relu (same values; keeps ONNX Runtime from running the MaxPool in uint8 NCHW)");
        }

        foreach (GraphNode node in selected)
        {
            PadNarrowInput(node);
            Plan(node);
        }

        _selectedNodes.UnionWith(selected.Select(n => n.Node));
        ResolveParameters();
        foreach (GraphNode node in selected)
        {
            if (StaticOpRoles.Of(node.Node.OpType) == StaticOpRole.Weighted || node.Node.OpType is "Add" or "Mul" or "Concat")
            {
                QuantizeConstantInputs(node);
            }
        }

        // Float readers are decided for every tensor before any Q/DQ pair rewires who produces what.
        foreach ((GraphScope scope, string name, HashSet<NodeProto> floatReaders) in _planOrder.Select(p => (p.Scope, p.Name, FloatReaders(p.Scope, p.Name))).ToList())
        {
            if (!OnlyReadInFloat(scope, name, floatReaders))
            {
                EmitQdq(scope, name, _plans[(scope, name)], floatReaders);
            }
        }

        int scalings = ConstantScaleIntoDequantize.Apply(graph);
        if (scalings > 0)
        {
            report.NodesQuantized += scalings;
            report.AddNote($"{scalings} Mul by a positive constant folded into the scale of a DequantizeLinear (no integer op needed)");
        }

        foreach (ConstantTensor constant in _replacedConstants)
        {
            if (graph.RemoveConstantIfUnused(constant))
            {
                report.ConstantsRemoved++;
            }
        }

        if (_perTensorDepthwise > 0)
        {
            // A depthwise Conv's channels are independent filters whose ranges differ widely; one scale for all of them is
            // the classic MobileNet int8 accuracy loss (ocr-cls: accuracy 0.97 per-tensor, 0.99 = fp32 per-channel).
            report.AddNote($"{_perTensorDepthwise} depthwise Conv(s) quantized with one weight scale per tensor; if accuracy suffers, per_channel: true usually recovers it");
        }

        report.NodesQuantized += selected.Count;
        report.ParametersQuantized -= _zeroWeightsAdded; // the model's own weights, not the padding
    }

    private string? SelectionReason(GraphNode candidate)
    {
        NodeProto node = candidate.Node;
        if (options.NodesToQuantize.Count > 0 && !options.NodesToQuantize.Contains(node.Name, StringComparer.Ordinal))
        {
            return "not listed in nodes_to_quantize";
        }

        foreach (string pattern in options.NodesToExclude)
        {
            if (NodeNameGlob.IsMatch(pattern, node.Name))
            {
                return $"excluded by nodes_to_exclude '{pattern}'";
            }
        }

        if (Override(node) is { Exclude: true } o)
        {
            return $"excluded by override '{o.Node}'";
        }

        if (node.OpType == "MaxPool" && !int8MaxPool)
        {
            return "int8 MaxPool needs opset 12";
        }

        return null;
    }

    /// <summary>
    /// ORT's rule for data-movement ops (its Direct8BitOp): quantized only when their input already is,
    /// i.e. read or written in int8 by a node selected before them in graph order; otherwise the Q/DQ
    /// pair would just round a float tensor (e.g. Silero's STFT output before its Pow/Sqrt/Log).
    /// </summary>
    private List<GraphNode> DropDataMovementOnFloatInputs(List<GraphNode> selected)
    {
        if (options.ForceQuantizeNoInputCheck)
        {
            return selected;
        }

        var quantized = new HashSet<(GraphScope, string)>();
        var kept = new List<GraphNode>(selected.Count);
        var keptNodes = new HashSet<NodeProto>(ReferenceEqualityComparer.Instance);
        foreach (GraphNode candidate in selected)
        {
            (GraphScope scope, NodeProto node) = candidate;
            StaticOpRole role = StaticOpRoles.Of(node.OpType);
            if (node.OpType == "MaxPool" && quantized.Contains((scope, node.Input[0])) && !ReadsInt8Conv(scope, node.Input[0], keptNodes))
            {
                report.AddSkipped(new SkippedNode(
                    NodeLabels.Of(node),
                    node.OpType,
                    scope.Path,
                    "its input does not come from an int8 Conv: ONNX Runtime runs a uint8 MaxPool fast only in the NHWC form it gives int8 Conv chains, elsewhere in a generic NCHW loop (ocr-cls: 1.8 ms against 0.14 ms in float)"));
                continue;
            }

            if (role is StaticOpRole.SharedParameters or StaticOpRole.RemovableActivation)
            {
                // A Relu/Clip on a float input gains nothing in int8 either (ORT folds it into the next QuantizeLinear), and its
                // QuantizeLinear would let ORT's QDQ propagation pull int8 up through a float MaxPool before it.
                if (!quantized.Contains((scope, node.Input[0])))
                {
                    string rule = role == StaticOpRole.SharedParameters ? "data-movement ops follow their input, as in ORT" : "a Relu/Clip follows its input";
                    report.AddSkipped(new SkippedNode(
                        NodeLabels.Of(node),
                        node.OpType,
                        scope.Path,
                        $"input '{node.Input[0]}' is not quantized ({rule}; ForceQuantizeNoInputCheck: true quantizes it anyway)"));
                    continue;
                }
            }
            else
            {
                quantized.UnionWith(node.Input.Where(i => i.Length > 0).Select(i => (scope, i)));
            }

            quantized.UnionWith(node.Output.Where(o => o.Length > 0).Select(o => (scope, o)));
            kept.Add(candidate);
            keptNodes.Add(node);
        }

        return kept;
    }

    /// <summary>
    /// A selected Mul by a positive constant of an int8 tensor (written by a selected node) stays float until the Q/DQ pairs
    /// exist, then becomes the scale of a DequantizeLinear (<see cref="ConstantScaleIntoDequantize"/>): no integer op needed.
    /// </summary>
    private static List<GraphNode> LeaveConstantScalingsToDequantize(List<GraphNode> selected)
    {
        var selectedNodes = new HashSet<NodeProto>(selected.Select(s => s.Node), ReferenceEqualityComparer.Instance);
        return [.. selected.Where(candidate =>
        {
            (GraphScope scope, NodeProto node) = candidate;
            return !ConstantScaleIntoDequantize.IsCandidate(scope, node)
                || !node.Input.Any(i => scope.Producer(i) is { } p && selectedNodes.Contains(p));
        })];
    }

    /// <summary>
    /// Rewrites the spelled-out hard-swishes none of whose nodes is quantized (excluded, tuned float, or between float layers)
    /// as <c>x · HardSigmoid(x)</c>, as graph clean-up does for float models (<see cref="GraphCleanupHardSwish"/>); the quantized
    /// ones stay spelled out, since QLinearAdd/QLinearMul beat a float HardSigmoid between DequantizeLinear and QuantizeLinear.
    /// </summary>
    private int FuseFloatHardSwishes(List<GraphNode> selected)
    {
        var selectedNodes = new HashSet<NodeProto>(selected.Select(s => s.Node), ReferenceEqualityComparer.Instance);
        int fused = 0;
        foreach ((GraphScope scope, NodeProto clip) in graph.AllNodes().Where(n => n.Node.OpType == "Clip").ToList())
        {
            if (GraphCleanupHardSwish.Match(graph, scope, clip) is { } hardSwish
                && !new[] { hardSwish.Add, hardSwish.Clip, hardSwish.Middle, hardSwish.Last }.Any(selectedNodes.Contains))
            {
                GraphCleanupHardSwish.Rewrite(graph, scope, hardSwish);
                fused++;
            }
        }

        return fused;
    }

    /// <summary>True when <paramref name="tensor"/> is written by a selected Conv, directly or through a selected Relu/Clip.</summary>
    private static bool ReadsInt8Conv(GraphScope scope, string tensor, HashSet<NodeProto> selected)
    {
        NodeProto? producer = scope.Producer(tensor);
        if (producer is { OpType: "Relu" or "Clip" } && selected.Contains(producer))
        {
            producer = scope.Producer(producer.Input[0]);
        }

        return producer is { OpType: "Conv" } && selected.Contains(producer);
    }

    /// <summary>
    /// Keeps only the selected nodes that share a quantized tensor, directly or through other selected
    /// nodes, with a quantized Conv/ConvTranspose/MatMul/Gemm. A group of element-wise ops between float
    /// ops (Silero's |STFT|² sums and log offset) would only round its tensors, each DQ/Q pair costing
    /// more than the int8 op saves. When no weighted node is selected at all, the selection stands.
    /// </summary>
    private List<GraphNode> DropIslandsWithoutIntegerKernel(List<GraphNode> selected)
    {
        if (!selected.Any(n => StaticOpRoles.Of(n.Node.OpType) == StaticOpRole.Weighted))
        {
            return selected;
        }

        // Union-find over selected nodes joined by the tensors they read or write.
        var parent = Enumerable.Range(0, selected.Count).ToArray();
        int Find(int i) => parent[i] == i ? i : parent[i] = Find(parent[i]);
        var owner = new Dictionary<(GraphScope, string), int>();
        for (int i = 0; i < selected.Count; i++)
        {
            (GraphScope scope, NodeProto node) = selected[i];
            foreach (string tensor in node.Input.Concat(node.Output).Where(t => t.Length > 0 && scope.FindConstant(t) is null))
            {
                if (owner.TryGetValue((scope, tensor), out int other))
                {
                    parent[Find(i)] = Find(other);
                }
                else
                {
                    owner[(scope, tensor)] = i;
                }
            }
        }

        var anchored = new HashSet<int>(Enumerable.Range(0, selected.Count)
            .Where(i => StaticOpRoles.Of(selected[i].Node.OpType) == StaticOpRole.Weighted)
            .Select(Find));
        var kept = new List<GraphNode>(selected.Count);
        for (int i = 0; i < selected.Count; i++)
        {
            if (anchored.Contains(Find(i)))
            {
                kept.Add(selected[i]);
                continue;
            }

            (GraphScope scope, NodeProto node) = selected[i];
            report.AddSkipped(new SkippedNode(
                NodeLabels.Of(node),
                node.OpType,
                scope.Path,
                "not connected to any quantized Conv/MatMul/Gemm: between float ops an int8 op only adds rounding and DQ/Q pairs"));
        }

        return kept;
    }

    private StaticNodeOverride? Override(NodeProto node) => options.NodeOverrides.FirstOrDefault(o => NodeNameGlob.IsMatch(o.Node, node.Name));

    /// <summary>Null when the node can be quantized with the ranges at hand, else why not.</summary>
    private string? CheckQuantizable(GraphNode candidate, StaticOpRole role)
    {
        (GraphScope scope, NodeProto node) = candidate;
        if (node.Input.Count == 0 || node.Output.Count == 0)
        {
            return "unexpected number of inputs or outputs";
        }

        switch (role)
        {
            case StaticOpRole.Weighted:
                if (node.OpType == "Gemm" && ModelGraph.GetInt(node, "transA", 0) != 0)
                {
                    return "Gemm with transA=1";
                }

                if (node.Input.Count < 2)
                {
                    return "missing weight input";
                }

                if (RequireActivation(scope, node.Input[0]) is { } missingInput)
                {
                    return missingInput;
                }

                if (scope.FindConstant(node.Input[1]) is null)
                {
                    // MatMul of two activations quantizes both (QLinearMatMul); others need a constant weight.
                    return node.OpType == "MatMul" ? RequireActivation(scope, node.Input[1]) ?? RequireOutputRange(node) : "weight is not a constant";
                }

                return IsFloatConstant(scope, node.Input[1])
                    ?? IntegerConvKernels.SlowIntegerKernelReason(node, scope.FindConstant(node.Input[1])!)
                    ?? RequireOutputRange(node);
            case StaticOpRole.Elementwise:
                int activations = 0;
                foreach (string input in node.Input)
                {
                    if (scope.FindConstant(input) is not null)
                    {
                        if (IsFloatConstant(scope, input) is { } reason)
                        {
                            return reason;
                        }

                        continue;
                    }

                    activations++;
                    if (RequireActivation(scope, input) is { } missing)
                    {
                        return missing;
                    }
                }

                return activations == 0 ? "all inputs are constants" : RequireOutputRange(node);
            case StaticOpRole.SharedParameters:
                if (scope.FindConstant(node.Input[0]) is not null)
                {
                    return "data input is a constant";
                }

                return RequireActivation(scope, node.Input[0]);
            default:
                return RequireActivation(scope, node.Input[0]) ?? RequireOutputRange(node);
        }
    }

    private static string? IsFloatConstant(GraphScope scope, string name)
    {
        ConstantTensor? constant = scope.FindConstant(name);
        if (constant is null)
        {
            return "weight is not a constant";
        }

        TensorProto? value = constant.Value;
        if (value is null || TensorData.IsExternal(value))
        {
            return "weight value is not available in memory";
        }

        return constant.DataType == TensorProto.Types.DataType.Float ? null : $"constant '{name}' is {constant.DataType}, not float32";
    }

    private string? RequireActivation(GraphScope scope, string name)
    {
        if (!scope.IsGraphInput(name) && scope.Producer(name) is null)
        {
            return $"input '{name}' comes from an outer scope";
        }

        return _ranges.ContainsKey(name) ? null : $"no calibration range for '{name}'";
    }

    private string? RequireOutputRange(NodeProto node)
    {
        string? missing = node.Output.FirstOrDefault(o => o.Length > 0 && !_ranges.ContainsKey(o));
        return missing is null ? null : $"no calibration range for '{missing}'";
    }

    /// <summary>
    /// Folds a selected Relu/Clip into the selected node that produces its input (ORT's
    /// QDQRemovableActivation): the producer writes the activation's output directly and that
    /// tensor's range (≥ 0 for Relu) makes the quantization clip. Only for asymmetric activations,
    /// whose range ends exactly at the activation's lower bound.
    /// </summary>
    private List<GraphNode> FoldActivations(List<GraphNode> selected)
    {
        var selectedNodes = new HashSet<NodeProto>(selected.Select(s => s.Node), ReferenceEqualityComparer.Instance);
        var result = new List<GraphNode>();
        foreach (GraphNode candidate in selected)
        {
            (GraphScope scope, NodeProto node) = candidate;
            if (StaticOpRoles.Of(node.OpType) == StaticOpRole.RemovableActivation && !options.ActivationSymmetric)
            {
                string input = node.Input[0];
                NodeProto? producer = scope.Producer(input);
                bool foldable = producer is not null && selectedNodes.Contains(producer)
                    && StaticOpRoles.Of(producer.OpType) is StaticOpRole.Weighted or StaticOpRole.Elementwise or StaticOpRole.Unary
                    && producer.Output.Count == 1
                    && graph.FindUses(scope, input).Count == 1 && !scope.IsGraphOutput(input)
                    // A float reader of the activation's output reads the tensor before its Q/DQ: it needs the real Relu/Clip.
                    && !graph.FindUses(scope, node.Output[0]).Any(u => u.Graph == scope && ReadsFloat(scope, u.Node, node.Output[0], selectedNodes));
                if (foldable)
                {
                    producer!.Output[0] = node.Output[0];
                    graph.RemoveNode(scope, node);
                    report.NodesQuantized++;
                    report.AddNote("Relu/Clip folded into the quantization of the preceding node's output");
                    continue;
                }
            }

            result.Add(candidate);
        }

        return result;
    }

    /// <summary>A Conv reading 1–3 channels gets a zero-padded input (same range: the zeros are inside it anyway).</summary>
    private void PadNarrowInput(GraphNode candidate)
    {
        (GraphScope scope, NodeProto node) = candidate;
        string original = node.Input[0];
        if (!_ranges.TryGetValue(original, out TensorRange range)
            || InputChannelPadding.TryPad(graph, scope, node) is not { } padded)
        {
            return;
        }

        _ranges[padded.Input] = range;
        _zeroWeightsAdded += padded.ZeroWeights;
        report.AddNote($"{NodeLabels.Of(node)}: input channels padded to 4 with zeros (ORT's int8 Conv kernel is much faster with 4)");
        Remember(scope.FindConstant(node.Input[1])!);
    }

    /// <summary>Records which activation tensors of a selected node need Q/DQ and where their parameters come from.</summary>
    private void Plan(GraphNode candidate)
    {
        (GraphScope scope, NodeProto node) = candidate;
        StaticOpRole role = StaticOpRoles.Of(node.OpType);
        QuantType activationType = Override(node)?.ActivationType ?? options.ActivationType;
        IEnumerable<string> activationInputs = role switch
        {
            StaticOpRole.Weighted => node.OpType == "MatMul" ? node.Input.Take(2) : node.Input.Take(1),
            StaticOpRole.Elementwise => node.Input,
            _ => node.Input.Take(1),
        };
        foreach (string input in activationInputs.Where(i => i.Length > 0 && scope.FindConstant(i) is null))
        {
            AddPlan(scope, input, new TensorPlan(null, activationType));
        }

        foreach (string output in node.Output.Where(o => o.Length > 0))
        {
            if (node.OpType is "Gemm" or "MatMul" && options.QuantFormat == StaticQuantFormat.QDQ && IsUnreadModelOutput(scope, output))
            {
                // ORT's QGemm and MatMulIntegerToFloat write float themselves: a Q/DQ pair on the model's
                // output would only clip it to the calibrated range and cost a step.
                report.AddNote($"{NodeLabels.Of(node)}: output '{output}' is a model output and stays float (QGemm/MatMulIntegerToFloat write float)");
                continue;
            }

            TensorPlan plan = role == StaticOpRole.SharedParameters ? new TensorPlan(node.Input[0], activationType) : new TensorPlan(null, activationType);
            AddPlan(scope, output, plan);
        }
    }

    /// <summary>
    /// Float (unselected) nodes that read tensor <paramref name="tensor"/> itself rather than a DequantizeLinear of it:
    /// <list type="bullet">
    /// <item>any float node, when the tensor's producer runs in float too (or it is a graph input): the Q/DQ pair exists
    /// for the quantized readers only, and rounding the float readers' input would only add error (Silero's STFT
    /// magnitude feeds both an int8 Concat and a float Log, which turns rounding of small values into large errors);</item>
    /// <item>a Conv, ConvTranspose or Gemm: ORT 1.31's WeightBiasQuantization quantizes the float weight of such a node
    /// whenever its input comes from a DequantizeLinear, so a layer kept float (excluded, tuned, or skipped for a slow
    /// integer kernel) would silently run in int8 again;</item>
    /// <item>a Reshape/Transpose/Squeeze/Unsqueeze/MaxPool whose output is read inside a subgraph: ORT 1.31's QDQ
    /// propagation then moves the DQ below it and aborts the process on the subgraph's implicit input (seen on
    /// Silero's Transpose before its LSTM If).</item>
    /// </list>
    /// Reading the float tensor is exact. A quantized producer read this way is no longer fused by ORT (its output has
    /// a float reader), which is why the first rule needs a float producer.
    /// </summary>
    private bool ReadsFloat(GraphScope scope, NodeProto node, string tensor, HashSet<NodeProto> selected) =>
        !selected.Contains(node)
        && (scope.Producer(tensor) is not { } producer || !selected.Contains(producer)
            || node.OpType is "Conv" or "ConvTranspose" or "Gemm"
            || (node.OpType is "Reshape" or "Transpose" or "Squeeze" or "Unsqueeze" or "MaxPool"
                && node.Output.Any(o => o.Length > 0 && graph.FindUses(scope, o).Any(u => u.Graph != scope))));

    /// <summary>The readers of <paramref name="name"/> in its own graph that read it as float (<see cref="ReadsFloat(GraphScope, NodeProto, string, HashSet{NodeProto})"/>).</summary>
    private HashSet<NodeProto> FloatReaders(GraphScope scope, string name) => new(
        graph.FindUses(scope, name).Where(u => u.Graph == scope && ReadsFloat(scope, u.Node, name, _selectedNodes)).Select(u => u.Node),
        ReferenceEqualityComparer.Instance);

    /// <summary>A tensor that only float readers use (and no graph output) gets no Q/DQ pair at all.</summary>
    private bool OnlyReadInFloat(GraphScope scope, string name, HashSet<NodeProto> floatReaders)
    {
        IReadOnlyList<GraphNode> uses = graph.FindUses(scope, name);
        return !scope.IsGraphOutput(name) && uses.Count > 0 && uses.All(u => floatReaders.Contains(u.Node));
    }

    private bool IsUnreadModelOutput(GraphScope scope, string name) =>
        scope.Depth == 0 && scope.Graph.Output.Any(o => o.Name == name) && graph.FindUses(scope, name).Count == 0;

    private void AddPlan(GraphScope scope, string name, TensorPlan plan)
    {
        if (_plans.TryAdd((scope, name), plan))
        {
            _planOrder.Add((scope, name));
        }
        else if (plan.SharesWith is not null)
        {
            // The producer decides: a data-movement output shares its input's parameters.
            _plans[(scope, name)] = plan;
        }
    }

    private void ResolveParameters()
    {
        // Producers come before consumers in node order, so a shared source is resolved first except
        // when it was planned later (graph inputs planned by a later node): resolve on demand.
        foreach ((GraphScope scope, string name) in _planOrder)
        {
            Resolve(scope, name, 0);
        }
    }

    private QuantParameters Resolve(GraphScope scope, string name, int depth)
    {
        TensorPlan plan = _plans[(scope, name)];
        if (plan.Parameters is { } known)
        {
            return known;
        }

        QuantParameters parameters;
        if (plan.SharesWith is { } source && depth < 1000 && _plans.ContainsKey((scope, source)))
        {
            parameters = Resolve(scope, source, depth + 1);
        }
        else
        {
            TensorRange range = _ranges[name];
            parameters = QuantParameters.Compute(range.Min, range.Max, plan.Type, options.ActivationSymmetric, false, options.MinimumRealRange);
        }

        plan.Parameters = parameters;
        return parameters;
    }

    /// <summary>QuantizeLinear → DequantizeLinear for one activation tensor; <paramref name="floatReaders"/> keep reading the float value.</summary>
    private void EmitQdq(GraphScope scope, string name, TensorPlan plan, HashSet<NodeProto> floatReaders)
    {
        QuantParameters p = plan.Parameters!.Value;
        QuantizationNames.Unit names = _names.Next();
        string scaleName = names.Scale();
        string zeroPointName = names.ZeroPoint();
        string quantized = names.Quantized();
        NodeProto? producer = scope.Producer(name);
        NodeProto q;
        NodeProto dq;
        if (producer is not null)
        {
            // Rename the producer's output so every reader (and a graph output) keeps the name T
            // and sees the dequantized value: no consumer needs rewiring, subgraph readers included.
            string prequant = names.Float();
            for (int i = 0; i < producer.Output.Count; i++)
            {
                if (producer.Output[i] == name)
                {
                    producer.Output[i] = prequant;
                }
            }

            q = graph.CreateNode("QuantizeLinear", names.QuantizeNode(), [prequant, scaleName, zeroPointName], [quantized], QdqDomain(p.Type));
            dq = graph.CreateNode("DequantizeLinear", names.DequantizeNode(), [quantized, scaleName, zeroPointName], [name], QdqDomain(p.Type));
            graph.InsertAfter(scope, producer, [q, dq]);
            foreach (NodeProto reader in floatReaders)
            {
                RenameInput(reader, name, prequant);
            }
        }
        else
        {
            string dequantized = names.Dequantized();
            IReadOnlyList<GraphNode> uses = graph.FindUses(scope, name);
            q = graph.CreateNode("QuantizeLinear", names.QuantizeNode(), [name, scaleName, zeroPointName], [quantized], QdqDomain(p.Type));
            dq = graph.CreateNode("DequantizeLinear", names.DequantizeNode(), [quantized, scaleName, zeroPointName], [dequantized], QdqDomain(p.Type));
            foreach (GraphNode use in uses.Where(u => !floatReaders.Contains(u.Node)))
            {
                RenameInput(use.Node, name, dequantized);
            }

            scope.Graph.Node.Insert(0, dq);
            scope.Graph.Node.Insert(0, q);
        }

        graph.AddConstant(scope, p.ScaleTensor(scaleName));
        graph.AddConstant(scope, p.ZeroPointTensor(zeroPointName));
    }

    private static void RenameInput(NodeProto node, string from, string to)
    {
        for (int i = 0; i < node.Input.Count; i++)
        {
            if (node.Input[i] == from)
            {
                node.Input[i] = to;
            }
        }
    }

    /// <summary>Weights, bias and constant operands of a selected node become integer constants read through DequantizeLinear.</summary>
    private void QuantizeConstantInputs(GraphNode candidate)
    {
        (GraphScope scope, NodeProto node) = candidate;
        StaticNodeOverride? o = Override(node);
        QuantType weightType = o?.WeightType ?? options.WeightType;
        bool perChannel = (o?.PerChannel ?? options.PerChannel) && perChannelAllowed;
        bool symmetric = options.IsWeightSymmetric(weightType);
        if (StaticOpRoles.Of(node.OpType) != StaticOpRole.Weighted)
        {
            // Constant operands of Add/Mul/Concat take the activation type: ORT's integer kernels
            // need every input of one type (and ORT turns int8 activations into uint8 on x86).
            QuantType activationType = o?.ActivationType ?? options.ActivationType;
            for (int i = 0; i < node.Input.Count; i++)
            {
                if (scope.FindConstant(node.Input[i]) is { } constant)
                {
                    node.Input[i] = DequantizedWeight(scope, node, constant, null, activationType, options.ActivationSymmetric, false).Name;
                }
            }

            return;
        }

        if (scope.FindConstant(node.Input[1]) is not { } weight)
        {
            return; // MatMul of two activations.
        }

        int rank = weight.Dims.Count;
        int? axis = !perChannel ? null : node.OpType switch
        {
            "Conv" when rank >= 3 => 0,
            "ConvTranspose" when rank >= 3 && ModelGraph.GetInt(node, "group", 1) == 1 => 1,
            "MatMul" when rank == 2 => 1,
            "Gemm" when rank == 2 => ModelGraph.GetInt(node, "transB", 0) != 0 ? 0 : 1,
            _ => null,
        };
        if (axis is null && perChannelAllowed && node.OpType == "Conv" && rank >= 3 && IntegerConvKernels.IsDepthwise(node, weight.Dims))
        {
            _perTensorDepthwise++;
        }

        (string dequantized, QuantizedWeight w) = DequantizedWeight(scope, node, weight, axis, weightType, symmetric, options.ReduceRange);
        node.Input[1] = dequantized;
        if (node.Input.Count > 2 && node.Input[2].Length > 0 && options.QuantizeBias)
        {
            QuantizeBias(scope, node, w);
        }
    }

    private (string Name, QuantizedWeight Weight) DequantizedWeight(GraphScope scope, NodeProto node, ConstantTensor constant, int? axis, QuantType type, bool symmetric, bool reduceRange)
    {
        string key = string.Create(CultureInfo.InvariantCulture, $"{constant.Owner.Path}\n{constant.Name}\n{axis}\n{type}\n{symmetric}\n{reduceRange}");
        if (!_weights.TryGetValue(key, out var entry))
        {
            TensorProto value = constant.Value!;
            float[] floats = TensorData.ReadFloats(value);
            QuantizedWeight w = QuantizedWeight.Quantize(floats, value.Dims.ToArray(), axis, type, symmetric, reduceRange);
            QuantizationNames.Unit names = _names.Next();
            entry = (names, names.Quantized(), names.Scale(), names.ZeroPoint(), w);
            graph.AddConstant(constant.Owner, w.WeightTensor(entry.Quantized));
            graph.AddConstant(constant.Owner, w.ScaleTensor(entry.Scale));
            graph.AddConstant(constant.Owner, w.ZeroPointTensor(entry.ZeroPoint));
            _weights[key] = entry;
            report.AddQuantizedWeight(entry.Quantized, constant.Name, floats.Length, w.Sqnr(floats));
            Remember(constant);
            report.WeightsQuantized++;
            report.ParametersQuantized += w.ElementCount;
        }

        report.AddWeightReader(entry.Quantized, node);
        if (!_weightDequantized.TryGetValue((scope, key), out string? dequantized))
        {
            dequantized = entry.Names.Dequantized();
            NodeProto dq = graph.CreateNode("DequantizeLinear", entry.Names.DequantizeNode(), [entry.Quantized, entry.Scale, entry.ZeroPoint], [dequantized], QdqDomain(entry.Weight.Type));
            if (entry.Weight.Axis is { } a)
            {
                dq.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = a });
            }

            graph.InsertBefore(scope, node, [dq]);
            _weightDequantized[(scope, key)] = dequantized;
        }

        return (dequantized, entry.Weight);
    }

    /// <summary>
    /// int32 bias with scale = x_scale · w_scale[c] and zero point 0 (QuantizeBias), read through a
    /// DequantizeLinear (axis 0 when per channel). Only for a 1-D constant bias of the output width;
    /// Gemm only with alpha = beta = 1 (ORT's integer Gemm adds the bias before alpha).
    /// </summary>
    private void QuantizeBias(GraphScope scope, NodeProto node, QuantizedWeight w)
    {
        if (node.OpType == "Gemm" && (ModelGraph.GetFloat(node, "alpha", 1f) != 1f || ModelGraph.GetFloat(node, "beta", 1f) != 1f))
        {
            report.AddNote($"{NodeLabels.Of(node)}: bias kept in float (Gemm alpha/beta != 1)");
            return;
        }

        ConstantTensor? bias = scope.FindConstant(node.Input[2]);
        TensorProto? value = bias?.Value;
        if (bias is null || value is null || bias.DataType != TensorProto.Types.DataType.Float || value.Dims.Count != 1)
        {
            report.AddNote($"{NodeLabels.Of(node)}: bias kept in float (not a 1-D float constant)");
            return;
        }

        string input = node.Input[0];
        if (!_plans.TryGetValue((scope, input), out TensorPlan? inputPlan) || inputPlan.Parameters is not { } x)
        {
            return;
        }

        float[] b = TensorData.ReadFloats(value);
        int channels = w.Scales.Length;
        if (channels != 1 && channels != b.Length)
        {
            report.AddNote($"{NodeLabels.Of(node)}: bias kept in float (length {b.Length} != {channels} weight scales)");
            return;
        }

        var scales = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            scales[c] = x.Scale * w.Scales[c];
        }

        var q = new int[b.Length];
        var sqnr = default(SqnrAccumulator);
        for (int i = 0; i < b.Length; i++)
        {
            float scale = scales[channels == 1 ? 0 : i];
            double v = Math.Round(b[i] / (double)scale, MidpointRounding.ToEven);
            q[i] = (int)Math.Clamp(v, int.MinValue, int.MaxValue);
            sqnr.Add(b[i], (float)(q[i] * (double)scale));
        }

        QuantizationNames.Unit names = _names.Next();
        string quantized = names.Quantized();
        string scaleName = names.Scale();
        long[] scaleDims = channels == 1 ? [] : [channels];
        graph.AddConstant(scope, TensorData.CreateInt32(quantized, [b.Length], q));
        report.AddQuantizedWeight(quantized, bias.Name, b.Length, sqnr.Decibels);
        report.AddWeightReader(quantized, node);
        graph.AddConstant(scope, TensorData.CreateFloat(scaleName, scaleDims, scales));
        string dequantized = names.Dequantized();

        // No zero point input: 0 is DequantizeLinear's default, ORT fuses the bias without it, and a per-channel
        // int32 zero vector costs 4 bytes per output channel (≈ 1 % of a small MLP's int8 file).
        // Weights keep theirs: ORT 1.31 fuses QDQ Gemm/MatMul only when the weight DequantizeLinear has one.
        NodeProto dq = graph.CreateNode("DequantizeLinear", names.DequantizeNode(), [quantized, scaleName], [dequantized]);
        if (channels != 1)
        {
            dq.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 0 });
        }

        graph.InsertBefore(scope, node, [dq]);
        node.Input[2] = dequantized;
        Remember(bias);
    }

    /// <summary>The Q/DQ domain for <paramref name="type"/>, declaring ORT's contrib opset the first time a 16-bit type needs it.</summary>
    private string QdqDomain(QuantType type)
    {
        string domain = QuantTypeEncoding.QdqDomain(type);
        if (domain == ModelGraph.MicrosoftDomain && !_sixteenBitNoted)
        {
            graph.EnsureOpset(ModelGraph.MicrosoftDomain, 1);
            report.AddNote("16-bit tensors use com.microsoft QuantizeLinear/DequantizeLinear (ai.onnx accepts 16-bit Q/DQ only from opset 21)");
            _sixteenBitNoted = true;
        }

        return domain;
    }

    private void Remember(ConstantTensor constant)
    {
        if (!_replacedConstants.Any(r => r.Owner == constant.Owner && r.Name == constant.Name))
        {
            _replacedConstants.Add(constant);
        }
    }

    /// <summary>How one activation tensor is quantized: its own calibrated range, or the parameters of <see cref="SharesWith"/>.</summary>
    private sealed class TensorPlan(string? sharesWith, QuantType type)
    {
        public string? SharesWith { get; } = sharesWith;

        public QuantType Type { get; } = type;

        public QuantParameters? Parameters { get; set; }
    }
}
