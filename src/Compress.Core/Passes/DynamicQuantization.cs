using System.Globalization;
using System.Text.RegularExpressions;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Spec;

namespace Compress.Core.Passes;

/// <summary>
/// Dynamic int8 quantization of MatMul and Gemm weights, as onnxruntime.quantization.quantize_dynamic
/// does: constant weights become 8-bit tensors with scales (and zero points); activations are
/// quantized to uint8 at run time. Walks subgraphs, resolves weights held by initializers or
/// Constant nodes in the node's graph or an outer scope, and removes float weights nothing reads
/// any more. Same input gives byte-identical output.
/// </summary>
/// <remarks>
/// Emitted form. At ai.onnx opset ≥ 11 the pass writes the standard-op pattern
/// DynamicQuantizeLinear → MatMulInteger → Cast → Mul(x_scale·w_scale) [→ Add bias], like
/// quantize_dynamic. ONNX Runtime 1.31 fuses it into com.microsoft DynamicQuantizeMatMul (bias
/// folded) at ORT_ENABLE_EXTENDED for every node of the shared models and of the hand-built tests,
/// per-tensor and per-channel, int8 and uint8 weights (checked by the tests reading the optimized
/// model), and the file stays runnable by any ONNX runtime. Below opset 11 DynamicQuantizeLinear
/// does not exist, so the pass writes DynamicQuantizeMatMul directly and imports com.microsoft.
/// </remarks>
public static class DynamicQuantization
{
    /// <summary>The name this pass uses in reports.</summary>
    public const string PassName = "dynamic_quantization";

    /// <summary>Quantizes the selected MatMul/Gemm nodes of <paramref name="model"/> in place.</summary>
    /// <returns>What was quantized and what was skipped, with reasons.</returns>
    public static PassReport Run(ModelProto model, DynamicQuantizationOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        var graph = new ModelGraph(model);
        var report = new PassReport(PassName);
        long opset = graph.OpsetVersion(ModelGraph.DefaultDomain);
        DynamicQuantizationForm form = ChooseForm(options.Form, opset, report);
        var state = new RunState(graph, options, form, report);

        int candidates = 0;
        foreach (GraphNode candidate in graph.AllNodes().ToList())
        {
            NodeProto node = candidate.Node;
            if (!ModelGraph.IsDefaultDomain(node.Domain) || node.OpType is not ("MatMul" or "Gemm"))
            {
                continue;
            }

            candidates++;
            string? reason = SelectionReason(node, options) ?? TryQuantize(state, candidate);
            if (reason is not null)
            {
                report.AddSkipped(new SkippedNode(Label(node), node.OpType, candidate.Graph.Path, reason));
            }
        }

        if (candidates == 0)
        {
            report.AddNote($"no MatMul or Gemm node in any of the {graph.Graphs.Count} graph(s): nothing to quantize");
        }

        foreach (ConstantTensor replaced in state.ReplacedConstants)
        {
            if (graph.RemoveConstantIfUnused(replaced))
            {
                report.ConstantsRemoved++;
            }
        }

        if (report.NodesQuantized > 0 && form == DynamicQuantizationForm.Contrib && graph.EnsureOpset(ModelGraph.MicrosoftDomain, 1))
        {
            report.AddNote("added opset import com.microsoft version 1 for DynamicQuantizeMatMul");
        }

        if (report.NodesQuantized > 0)
        {
            report.AddNote(string.Create(
                CultureInfo.InvariantCulture,
                $"weights {options.WeightType} {(options.PerChannel ? "per-channel" : "per-tensor")}{(options.ReduceRange ? ", reduce_range (7-bit)" : string.Empty)}; activations uint8 quantized at run time"));
        }

        return report;
    }

    private static DynamicQuantizationForm ChooseForm(DynamicQuantizationForm requested, long opset, PassReport report)
    {
        if (opset < 11)
        {
            report.AddNote($"opset {opset} < 11: used com.microsoft DynamicQuantizeMatMul (DynamicQuantizeLinear needs opset 11)");
            return DynamicQuantizationForm.Contrib;
        }

        return requested == DynamicQuantizationForm.Auto ? DynamicQuantizationForm.Standard : requested;
    }

    private static string? SelectionReason(NodeProto node, DynamicQuantizationOptions options)
    {
        if (!options.OpTypesToQuantize.Contains(node.OpType, StringComparer.Ordinal))
        {
            return "op type not selected";
        }

        if (options.NodesToQuantize.Count > 0 && !options.NodesToQuantize.Contains(node.Name, StringComparer.Ordinal))
        {
            return "not listed in nodes_to_quantize";
        }

        foreach (string pattern in options.NodesToExclude)
        {
            if (GlobMatches(pattern, node.Name))
            {
                return $"excluded by nodes_to_exclude '{pattern}'";
            }
        }

        return null;
    }

    /// <summary>Matches a whole node name against a glob with <c>*</c> and <c>?</c> (case-sensitive).</summary>
    internal static bool GlobMatches(string pattern, string name)
    {
        string regex = "^" + Regex.Escape(pattern).Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal) + "$";
        return Regex.IsMatch(name, regex, RegexOptions.Singleline | RegexOptions.CultureInvariant);
    }

    /// <summary>Replaces one node; returns a skip reason instead when it cannot be quantized.</summary>
    private static string? TryQuantize(RunState state, GraphNode candidate)
    {
        (GraphScope scope, NodeProto node) = candidate;
        bool isGemm = node.OpType == "Gemm";
        if (node.Input.Count < 2 || node.Output.Count != 1)
        {
            return "unexpected number of inputs or outputs";
        }

        if (isGemm && ModelGraph.GetInt(node, "transA", 0) != 0)
        {
            return "Gemm with transA=1";
        }

        ConstantTensor? weight = scope.FindConstant(node.Input[1]);
        if (weight is null)
        {
            return "weight is not a constant";
        }

        TensorProto? value = weight.Value;
        if (value is null || TensorData.IsExternal(value))
        {
            return "weight value is not available in memory";
        }

        if (weight.DataType != TensorProto.Types.DataType.Float)
        {
            return $"weight type {weight.DataType} is not float32";
        }

        if (value.Dims.Count != 2)
        {
            return $"weight has rank {value.Dims.Count}; only 2-D weights are quantized";
        }

        bool transB = isGemm && ModelGraph.GetInt(node, "transB", 0) != 0;
        float alpha = isGemm ? ModelGraph.GetFloat(node, "alpha", 1f) : 1f;
        float beta = isGemm ? ModelGraph.GetFloat(node, "beta", 1f) : 1f;
        string? biasName = isGemm && node.Input.Count > 2 && node.Input[2].Length > 0 ? node.Input[2] : null;
        QuantizedWeight quantized = state.GetOrQuantize(weight, value, transB, alpha);
        long n = quantized.Columns;
        List<NodeProto> replacement = state.Form == DynamicQuantizationForm.Contrib
            ? state.EmitContrib(scope, node, quantized, biasName, beta, n)
            : state.EmitStandard(scope, node, quantized, biasName, beta, n);
        state.Graph.ReplaceNode(scope, node, replacement);
        state.Report.NodesQuantized++;
        return null;
    }

    private static string Label(NodeProto node) => node.Name.Length > 0 ? node.Name : $"(unnamed {node.OpType} -> {node.Output.FirstOrDefault()})";

    /// <summary>Names of one quantized weight: the int8 matrix [K,N], its scale and zero point.</summary>
    private sealed record QuantizedWeight(string Weight, string Scale, string ZeroPoint, long Columns);

    /// <summary>Everything one run shares: the graph view, options, cache of quantized weights.</summary>
    private sealed class RunState(ModelGraph graph, DynamicQuantizationOptions options, DynamicQuantizationForm form, PassReport report)
    {
        private readonly Dictionary<string, QuantizedWeight> _cache = new(StringComparer.Ordinal);
        private readonly List<ConstantTensor> _replaced = [];

        public ModelGraph Graph { get; } = graph;

        public DynamicQuantizationForm Form { get; } = form;

        public PassReport Report { get; } = report;

        /// <summary>Float constants that quantized nodes stopped reading (removal candidates, first-seen order).</summary>
        public IReadOnlyList<ConstantTensor> ReplacedConstants => _replaced;

        /// <summary>
        /// Quantizes a weight once per (weight, layout): a weight shared by several nodes with the
        /// same transB/alpha reuses the same integer tensors; the float weight stays while any other
        /// node still reads it.
        /// </summary>
        public QuantizedWeight GetOrQuantize(ConstantTensor weight, TensorProto value, bool transB, float alpha)
        {
            string key = string.Create(CultureInfo.InvariantCulture, $"{weight.Owner.Path}\n{weight.Name}\n{transB}\n{BitConverter.SingleToInt32Bits(alpha)}");
            if (_cache.TryGetValue(key, out QuantizedWeight? cached))
            {
                return cached;
            }

            float[] w = TensorData.ReadFloats(value);
            int rows = checked((int)value.Dims[0]);
            int columns = checked((int)value.Dims[1]);
            if (transB)
            {
                // Gemm transB=1 stores B as [N,K]; MatMulInteger needs [K,N] (output channels last).
                w = Transpose(w, rows, columns);
                (rows, columns) = (columns, rows);
            }

            if (alpha != 1f)
            {
                // Folding alpha into the weight keeps the scale positive and the pattern fusable.
                for (int i = 0; i < w.Length; i++)
                {
                    w[i] *= alpha;
                }
            }

            QuantizedMatrix q = QuantizedMatrix.Quantize(w, rows, columns, options.WeightType, options.PerChannel, options.ReduceRange);
            string baseName = weight.Name + (transB ? "_T" : string.Empty);
            var names = new QuantizedWeight(
                Graph.UniqueName(baseName + "_quantized"),
                Graph.UniqueName(baseName + "_scale"),
                Graph.UniqueName(baseName + "_zero_point"),
                columns);
            AddConstant(weight.Owner, q.WeightTensor(names.Weight));
            AddConstant(weight.Owner, q.ScaleTensor(names.Scale));
            AddConstant(weight.Owner, q.ZeroPointTensor(names.ZeroPoint));
            _cache[key] = names;
            Remember(weight);
            Report.WeightsQuantized++;
            Report.ParametersQuantized += w.Length;
            return names;
        }

        /// <summary>DynamicQuantizeLinear → MatMulInteger → Cast → Mul [→ Add], the quantize_dynamic pattern.</summary>
        public List<NodeProto> EmitStandard(GraphScope scope, NodeProto node, QuantizedWeight w, string? biasName, float beta, long n)
        {
            string output = node.Output[0];
            string stem = node.Name.Length > 0 ? node.Name : output;
            string xq = Graph.UniqueName(stem + "_input_quantized");
            string xScale = Graph.UniqueName(stem + "_input_scale");
            string xZeroPoint = Graph.UniqueName(stem + "_input_zero_point");
            string integerOut = Graph.UniqueName(stem + "_output_int32");
            string castOut = Graph.UniqueName(stem + "_output_float");
            string scaleOut = Graph.UniqueName(stem + "_output_scale");
            (string? bias, List<NodeProto> biasPrep) = biasName is null ? (null, []) : PrepareBias(scope, stem, biasName, beta, n);
            string mulOut = bias is null ? output : Graph.UniqueName(stem + "_output_scaled");

            var nodes = new List<NodeProto>
            {
                Graph.CreateNode("DynamicQuantizeLinear", Graph.UniqueName(stem + "_DynamicQuantizeLinear"), [node.Input[0]], [xq, xScale, xZeroPoint]),
                Graph.CreateNode("MatMulInteger", Graph.UniqueName(stem + "_MatMulInteger"), [xq, w.Weight, xZeroPoint, w.ZeroPoint], [integerOut]),
                Graph.CreateNode("Cast", Graph.UniqueName(stem + "_Cast"), [integerOut], [castOut]),
                Graph.CreateNode("Mul", Graph.UniqueName(stem + "_scales_Mul"), [xScale, w.Scale], [scaleOut]),
                Graph.CreateNode("Mul", Graph.UniqueName(stem + "_output_Mul"), [castOut, scaleOut], [mulOut]),
            };
            nodes[2].Attribute.Add(new AttributeProto { Name = "to", Type = AttributeProto.Types.AttributeType.Int, I = (long)TensorProto.Types.DataType.Float });
            nodes.InsertRange(0, biasPrep);
            if (bias is not null)
            {
                nodes.Add(Graph.CreateNode("Add", Graph.UniqueName(stem + "_bias_Add"), [mulOut, bias], [output]));
            }

            return nodes;
        }

        /// <summary>com.microsoft DynamicQuantizeMatMul(A, B, b_scale, b_zero_point, bias) [→ Add for non-1-D bias].</summary>
        public List<NodeProto> EmitContrib(GraphScope scope, NodeProto node, QuantizedWeight w, string? biasName, float beta, long n)
        {
            string output = node.Output[0];
            string stem = node.Name.Length > 0 ? node.Name : output;
            (string? bias, List<NodeProto> nodes) = biasName is null ? (null, []) : PrepareBias(scope, stem, biasName, beta, n);
            bool biasIsVector = bias is not null && IsVectorOfLength(scope, bias, n);
            var inputs = new List<string> { node.Input[0], w.Weight, w.Scale, w.ZeroPoint };
            if (biasIsVector)
            {
                inputs.Add(bias!);
            }

            string matMulOut = bias is null || biasIsVector ? output : Graph.UniqueName(stem + "_output_unbiased");
            nodes.Add(Graph.CreateNode("DynamicQuantizeMatMul", Graph.UniqueName(stem + "_DynamicQuantizeMatMul"), inputs, [matMulOut], ModelGraph.MicrosoftDomain));
            if (bias is not null && !biasIsVector)
            {
                nodes.Add(Graph.CreateNode("Add", Graph.UniqueName(stem + "_bias_Add"), [matMulOut, bias], [output]));
            }

            return nodes;
        }

        /// <summary>
        /// The tensor to add as Gemm bias (beta·C). A constant C broadcastable to [N] becomes a 1-D
        /// [N] constant (the shape ORT folds into DynamicQuantizeMatMul); other constants are scaled
        /// in place of shape; a computed C is used as is (beta = 1) or through a Mul by beta.
        /// </summary>
        private (string Bias, List<NodeProto> Nodes) PrepareBias(GraphScope scope, string stem, string biasName, float beta, long n)
        {
            ConstantTensor? constant = scope.FindConstant(biasName);
            TensorProto? value = constant?.Value;
            if (constant is null || value is null || TensorData.IsExternal(value) || constant.DataType != TensorProto.Types.DataType.Float)
            {
                if (beta == 1f)
                {
                    return (biasName, []);
                }

                string betaName = Graph.UniqueName(stem + "_beta");
                AddConstant(scope, TensorData.CreateFloat(betaName, [], [beta]));
                string scaled = Graph.UniqueName(stem + "_bias_scaled");
                return (scaled, [Graph.CreateNode("Mul", Graph.UniqueName(stem + "_bias_Mul"), [biasName, betaName], [scaled])]);
            }

            bool isVector = value.Dims.Count == 1 && value.Dims[0] == n;
            if (beta == 1f && isVector)
            {
                return (biasName, []);
            }

            float[] c = TensorData.ReadFloats(value);
            bool toVector = value.Dims.Count <= 2 && value.Dims.Take(value.Dims.Count - 1).All(d => d == 1)
                && (value.Dims.Count == 0 || value.Dims[^1] == n || value.Dims[^1] == 1);
            float[] scaledValues = toVector
                ? Enumerable.Range(0, (int)n).Select(i => beta * c[c.Length == 1 ? 0 : i]).ToArray()
                : c.Select(v => beta * v).ToArray();
            long[] dims = toVector ? [n] : value.Dims.ToArray();
            string name = Graph.UniqueName(stem + "_bias");
            AddConstant(scope, TensorData.CreateFloat(name, dims, scaledValues));
            Remember(constant);
            return (name, []);
        }

        private static bool IsVectorOfLength(GraphScope scope, string name, long n) =>
            scope.FindConstant(name) is { } c && c.Dims.Count == 1 && c.Dims[0] == n;

        /// <summary>
        /// Adds a constant to <paramref name="scope"/>: an initializer (IR ≥ 4), or a Constant node at
        /// the top of the graph for IR &lt; 4, where every initializer would also have to be a graph input.
        /// </summary>
        private void AddConstant(GraphScope scope, TensorProto tensor)
        {
            if (Graph.Model.IrVersion >= 4)
            {
                Graph.AddInitializer(scope, tensor);
                return;
            }

            NodeProto constant = Graph.CreateNode("Constant", Graph.UniqueName(tensor.Name + "_Constant"), [], [tensor.Name]);
            constant.Attribute.Add(new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = tensor });
            scope.Graph.Node.Insert(0, constant);
        }

        private void Remember(ConstantTensor constant)
        {
            if (!_replaced.Any(r => r.Owner == constant.Owner && r.Name == constant.Name))
            {
                _replaced.Add(constant);
            }
        }

        private static float[] Transpose(float[] values, int rows, int columns)
        {
            var result = new float[values.Length];
            for (int r = 0; r < rows; r++)
            {
                for (int c = 0; c < columns; c++)
                {
                    result[(c * rows) + r] = values[(r * columns) + c];
                }
            }

            return result;
        }
    }
}
