using System.Globalization;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Spec;

namespace Compress.Core.Passes;

/// <summary>
/// Weight-only block quantization of MatMul (and Gemm) weights to 4 or 8 bits in ONNX Runtime's
/// com.microsoft MatMulNBits form, as onnxruntime.quantization's MatMul4BitsQuantizer /
/// DefaultWeightOnlyQuantizer writes it: activations stay float, each block of
/// <see cref="WeightOnlyQuantizationOptions.BlockSize"/> weights along K gets its own scale (and
/// zero point). Walks subgraphs, resolves weights held by initializers or Constant nodes in the
/// node's graph or an outer scope, and removes float weights nothing reads any more.
/// </summary>
/// <remarks>
/// Gemm (transA = 0) becomes MatMulNBits followed by an Add of beta·C; alpha is folded into the
/// weight before quantization and transB = 1 weights are already in MatMulNBits' [N,K] order.
/// Conv, when listed, keeps computing in float with its weight stored int8 per channel behind a
/// DequantizeLinear, so a CNN's file shrinks too.
/// </remarks>
public static class WeightOnlyQuantization
{
    /// <summary>The name this pass uses in reports.</summary>
    public const string PassName = "weight_only_quantization";

    /// <summary>The contrib operator this pass writes.</summary>
    public const string MatMulNBitsOp = "MatMulNBits";

    // Mul with numpy-style broadcasting (the per-channel scales of Conv weights) needs ai.onnx 7.
    private const long ConvWeightOpset = 7;

    /// <summary>Quantizes the selected MatMul/Gemm nodes of <paramref name="model"/> in place.</summary>
    /// <returns>What was quantized and what was skipped, with reasons.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An option is outside what MatMulNBits accepts.</exception>
    public static PassReport Run(ModelProto model, WeightOnlyQuantizationOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var report = new PassReport(PassName);
        var graph = new ModelGraph(model);
        var state = new RunState(graph, options, report);

        int candidates = 0;
        foreach (GraphNode candidate in graph.AllNodes().ToList())
        {
            NodeProto node = candidate.Node;
            if (!ModelGraph.IsDefaultDomain(node.Domain) || node.OpType is not ("MatMul" or "Gemm" or "Conv"))
            {
                continue;
            }

            // A Conv left out of op_types_to_quantize is not listed as "not selected": it would bury the report of a CNN.
            if (node.OpType == "Conv" && !options.OpTypesToQuantize.Contains("Conv", StringComparer.Ordinal))
            {
                continue;
            }

            candidates++;
            string? reason = SelectionReason(node, options) ?? (node.OpType == "Conv" ? state.TryQuantizeConv(candidate) : state.TryQuantize(candidate));
            if (reason is not null)
            {
                report.AddSkipped(new SkippedNode(NodeLabels.Of(node), node.OpType, candidate.Graph.Path, reason));
            }
        }

        if (candidates == 0)
        {
            report.AddNote($"no MatMul, Gemm or selected Conv node in any of the {graph.Graphs.Count} graph(s): nothing to quantize");
        }

        foreach (ConstantTensor replaced in state.ReplacedConstants)
        {
            if (graph.RemoveConstantIfUnused(replaced))
            {
                report.ConstantsRemoved++;
            }
        }

        if (report.NodesQuantized > 0)
        {
            if (report.NodesQuantized > state.ConvWeights && graph.EnsureOpset(ModelGraph.MicrosoftDomain, 1))
            {
                report.AddNote("added opset import com.microsoft version 1 for MatMulNBits");
            }

            string accuracy = options.AccuracyLevel is { } level ? string.Create(CultureInfo.InvariantCulture, $", accuracy_level {level}") : string.Empty;
            report.AddNote(string.Create(
                CultureInfo.InvariantCulture,
                $"weights {options.Bits}-bit {(options.Symmetric ? "symmetric" : "asymmetric")} in blocks of {options.BlockSize} along K{accuracy}; activations stay float"));
            if (state.HalfScaleWeights > 0)
            {
                report.AddNote(string.Create(CultureInfo.InvariantCulture, $"{state.HalfScaleWeights} weight(s) store their block scales as float16, read through a Cast to float32 that ONNX Runtime folds at load (MatMulNBits computes in float32)"));
            }

            if (state.FloatScaleFallbacks > 0)
            {
                report.AddNote(string.Create(CultureInfo.InvariantCulture, $"{state.FloatScaleFallbacks} weight(s) keep float32 block scales: a scale is outside float16's normal range"));
            }

            if (state.ConvWeights > 0)
            {
                report.AddNote(string.Create(CultureInfo.InvariantCulture, $"{state.ConvWeights} Conv weight(s) stored int8 per output channel (Cast and Mul by the channel scales, folded by ONNX Runtime at load); Conv computes in float"));
            }

            if (state.PaddedWeights > 0)
            {
                report.AddNote(string.Create(CultureInfo.InvariantCulture, $"{state.PaddedWeights} weight(s) with K not a multiple of {options.BlockSize}: last block padded"));
            }
        }

        return report;
    }

    private static string? SelectionReason(NodeProto node, WeightOnlyQuantizationOptions options)
    {
        if (!options.OpTypesToQuantize.Contains(node.OpType, StringComparer.Ordinal))
        {
            return "op type not selected";
        }

        foreach (string pattern in options.NodesToExclude)
        {
            if (NodeNameGlob.IsMatch(pattern, node.Name))
            {
                return $"excluded by nodes_to_exclude '{pattern}'";
            }
        }

        return null;
    }

    /// <summary>Names of one quantized weight and its shape.</summary>
    private sealed record QuantizedWeight(string Weight, string Scales, string? ZeroPoints, int K, int N);

    /// <summary>Everything one run shares: graph view, options, report, cache of quantized weights.</summary>
    private sealed class RunState(ModelGraph graph, WeightOnlyQuantizationOptions options, PassReport report)
    {
        private readonly Dictionary<string, QuantizedWeight> _cache = new(StringComparer.Ordinal);
        private readonly List<ConstantTensor> _replaced = [];
        private readonly Dictionary<string, (string Quantized, string Dequantized)> _convWeights = new(StringComparer.Ordinal);
        private readonly QuantizationNames _names = new(graph);

        /// <summary>Conv nodes whose weight became int8 behind a Cast and Mul.</summary>
        public int ConvWeights { get; private set; }

        /// <summary>Float constants that quantized nodes stopped reading (removal candidates, first-seen order).</summary>
        public IReadOnlyList<ConstantTensor> ReplacedConstants => _replaced;

        /// <summary>Distinct MatMul/Gemm weights whose block scales are stored as float16.</summary>
        public int HalfScaleWeights { get; private set; }

        /// <summary>Distinct weights that <see cref="WeightScaleType.Auto"/> left with float32 scales (a scale does not fit float16).</summary>
        public int FloatScaleFallbacks { get; private set; }

        /// <summary>Distinct weights whose K needed a padded last block.</summary>
        public int PaddedWeights { get; private set; }

        /// <summary>Replaces one node; returns a skip reason instead when it cannot be quantized.</summary>
        public string? TryQuantize(GraphNode candidate)
        {
            (GraphScope scope, NodeProto node) = candidate;
            bool isGemm = node.OpType == "Gemm";
            if (node.Input.Count < 2 || node.Output.Count != 1)
            {
                return "unexpected number of inputs or outputs";
            }

            if (isGemm && ModelGraph.GetInt(node, "transA", 0) != 0)
            {
                return "Gemm with transA=1 (MatMulNBits takes A as is)";
            }

            if (!MatMulWeightLookup.TryFind(scope, node, out ConstantTensor? weight, out TensorProto? value, out string? reason))
            {
                return reason;
            }

            bool transB = isGemm && ModelGraph.GetInt(node, "transB", 0) != 0;
            float alpha = isGemm ? ModelGraph.GetFloat(node, "alpha", 1f) : 1f;
            float beta = isGemm ? ModelGraph.GetFloat(node, "beta", 1f) : 1f;
            QuantizedWeight q = GetOrQuantize(weight, value, transB, alpha);
            report.AddWeightReader(q.Weight, node);
            string output = node.Output[0];
            string stem = node.Name.Length > 0 ? node.Name : output;
            string? biasName = isGemm && node.Input.Count > 2 && node.Input[2].Length > 0 ? node.Input[2] : null;
            var nodes = new List<NodeProto>();
            string? bias = biasName is null ? null : PrepareBias(scope, stem, biasName, beta, nodes);
            string matMulOut = bias is null ? output : graph.UniqueName(stem + "_MatMulNBits_out");

            var inputs = new List<string> { node.Input[0], q.Weight, q.Scales };
            if (q.ZeroPoints is not null)
            {
                inputs.Add(q.ZeroPoints);
            }

            string name = graph.UniqueName(node.Name.Length > 0 ? $"{node.Name}_Q{options.Bits}" : $"{output}_MatMulNBits");
            NodeProto matMul = graph.CreateNode(MatMulNBitsOp, name, inputs, [matMulOut], ModelGraph.MicrosoftDomain);
            matMul.Attribute.Add(IntAttribute("K", q.K));
            matMul.Attribute.Add(IntAttribute("N", q.N));
            matMul.Attribute.Add(IntAttribute("bits", options.Bits));
            matMul.Attribute.Add(IntAttribute("block_size", options.BlockSize));
            if (options.AccuracyLevel is { } level)
            {
                matMul.Attribute.Add(IntAttribute("accuracy_level", level));
            }

            nodes.Add(matMul);

            if (bias is not null)
            {
                nodes.Add(graph.CreateNode("Add", graph.UniqueName(stem + "_bias_Add"), [matMulOut, bias], [output]));
            }

            graph.ReplaceNode(scope, node, nodes);
            report.NodesQuantized++;
            return null;
        }

        /// <summary>
        /// A Conv keeps computing in float (ORT has no weight-only int4 Conv kernel), but its weight is stored as int8
        /// per output channel, symmetric, and turned back into float by Cast and Mul by the channel scales. Unlike a
        /// DequantizeLinear (which ONNX Runtime keeps for its QDQ fusions), Cast and Mul of constants are folded when
        /// the model loads, so the Conv gets a constant float weight again and its prepacked fast kernels.
        /// </summary>
        public string? TryQuantizeConv(GraphNode candidate)
        {
            (GraphScope scope, NodeProto node) = candidate;
            if (graph.OpsetVersion(ModelGraph.DefaultDomain) < ConvWeightOpset)
            {
                return "Conv weights need a broadcasting Mul (ai.onnx opset 7 or later)";
            }

            ConstantTensor? weight = node.Input.Count > 1 ? scope.FindConstant(node.Input[1]) : null;
            TensorProto? value = weight?.Value;
            if (weight is null || value is null || weight.DataType != TensorProto.Types.DataType.Float || value.Dims.Count < 3 || TensorData.IsExternal(value))
            {
                return "weight is not a float constant of rank 3 or more";
            }

            string key = string.Create(CultureInfo.InvariantCulture, $"{weight.Owner.Path}\n{weight.Name}");
            if (!_convWeights.TryGetValue(key, out (string Quantized, string Dequantized) names))
            {
                float[] floats = TensorData.ReadFloats(value);
                long[] dims = value.Dims.ToArray();
                var q = Qdq.QuantizedWeight.Quantize(floats, dims, 0, QuantType.QInt8, symmetric: true, reduceRange: false);
                QuantizationNames.Unit unit = _names.Next();
                string quantized = unit.Quantized(), scale = unit.Scale(), cast = unit.Float(), dequantized = unit.Dequantized();

                // Scales shaped [C, 1, 1, …] broadcast over each output channel's filter.
                long[] scaleDims = [dims[0], .. Enumerable.Repeat(1L, dims.Length - 1)];
                graph.AddConstant(weight.Owner, q.WeightTensor(quantized));
                graph.AddConstant(weight.Owner, TensorData.CreateFloat(scale, scaleDims, q.Scales));
                NodeProto mul = graph.CreateNode("Mul", unit.Name("M"), [cast, scale], [dequantized]);
                graph.InsertAfterDefinitions(weight.Owner, [quantized, scale], [CastNode(quantized, cast, TensorProto.Types.DataType.Float, unit.Name("C")), mul]);
                names = (quantized, dequantized);
                _convWeights[key] = names;
                Remember(weight);
                report.WeightsQuantized++;
                report.ParametersQuantized += q.ElementCount;
                report.AddQuantizedWeight(quantized, weight.Name, floats.Length, q.Sqnr(floats));
            }

            report.AddWeightReader(names.Quantized, node);
            node.Input[1] = names.Dequantized;
            ConvWeights++;
            report.NodesQuantized++;
            return null;
        }

        private NodeProto CastNode(string input, string output, TensorProto.Types.DataType to, string name)
        {
            NodeProto cast = graph.CreateNode("Cast", name, [input], [output]);
            cast.Attribute.Add(IntAttribute("to", (long)to));
            return cast;
        }

        /// <summary>
        /// Quantizes a weight once per (weight, layout): a weight shared by several nodes with the
        /// same transB/alpha reuses the same packed tensors.
        /// </summary>
        private QuantizedWeight GetOrQuantize(ConstantTensor weight, TensorProto value, bool transB, float alpha)
        {
            string key = string.Create(CultureInfo.InvariantCulture, $"{weight.Owner.Path}\n{weight.Name}\n{transB}\n{BitConverter.SingleToInt32Bits(alpha)}");
            if (_cache.TryGetValue(key, out QuantizedWeight? cached))
            {
                return cached;
            }

            float[] w = TensorData.ReadFloats(value);
            int rows = checked((int)value.Dims[0]);
            int columns = checked((int)value.Dims[1]);

            // MatMulNBits wants [N,K]: MatMul's [K,N] (and Gemm transB=0) is transposed, Gemm transB=1 already is.
            (float[] nk, int k, int n) = transB ? (w, columns, rows) : (RowMajor.Transpose(w, rows, columns), rows, columns);
            if (alpha != 1f)
            {
                for (int i = 0; i < nk.Length; i++)
                {
                    nk[i] *= alpha;
                }
            }

            // Auto quantizes against float16 scales and, only for a weight whose scales do not fit float16, again with float32 ones.
            var blocks = WeightOnlyQuantizationBlocks.Quantize(nk, k, n, options.Bits, options.BlockSize, options.Symmetric, halfScales: options.ScaleType != WeightScaleType.Float);
            if (options.ScaleType == WeightScaleType.Auto && !blocks.ScalesFitHalf)
            {
                blocks = WeightOnlyQuantizationBlocks.Quantize(nk, k, n, options.Bits, options.BlockSize, options.Symmetric, halfScales: false);
                FloatScaleFallbacks++;
            }

            string baseName = weight.Name + (transB ? "_T" : string.Empty);
            var names = new QuantizedWeight(
                graph.UniqueName($"{baseName}_Q{options.Bits}"),
                graph.UniqueName(baseName + "_scales"),
                options.Symmetric ? null : graph.UniqueName(baseName + "_zero_points"),
                k,
                n);
            graph.AddConstant(weight.Owner, blocks.WeightTensor(names.Weight));
            if (blocks.HalfScales)
            {
                // MatMulNBits reads scales of its input's type: float16 bytes in the file, one Cast to float32 in the graph
                // (placed where the scales are defined, so every reader in this graph or a subgraph sees it).
                string stored = graph.UniqueName(baseName + "_scales_f16");
                graph.AddConstant(weight.Owner, blocks.ScaleTensor(stored));
                graph.InsertAfterDefinitions(weight.Owner, [stored], [CastNode(stored, names.Scales, TensorProto.Types.DataType.Float, graph.UniqueName(names.Scales + "_Cast"))]);
                HalfScaleWeights++;
            }
            else
            {
                graph.AddConstant(weight.Owner, blocks.ScaleTensor(names.Scales));
            }
            if (names.ZeroPoints is not null)
            {
                graph.AddConstant(weight.Owner, blocks.ZeroPointTensor(names.ZeroPoints));
            }

            _cache[key] = names;
            Remember(weight);
            report.WeightsQuantized++;
            report.ParametersQuantized += w.Length;
            report.AddQuantizedWeight(names.Weight, weight.Name, w.Length, blocks.Sqnr(nk));
            if (k % options.BlockSize != 0)
            {
                PaddedWeights++;
            }

            return names;
        }

        /// <summary>
        /// The tensor to add as Gemm bias (beta·C): C itself when beta = 1, a scaled copy for a
        /// constant C, or the output of a Mul by beta for a computed C.
        /// </summary>
        private string PrepareBias(GraphScope scope, string stem, string biasName, float beta, List<NodeProto> nodes)
        {
            if (beta == 1f)
            {
                return biasName;
            }

            ConstantTensor? constant = scope.FindConstant(biasName);
            TensorProto? value = constant?.Value;
            if (constant is not null && value is not null && !TensorData.IsExternal(value) && constant.DataType == TensorProto.Types.DataType.Float)
            {
                string scaledName = graph.UniqueName(stem + "_bias");
                graph.AddConstant(scope, TensorData.CreateFloat(scaledName, value.Dims.ToArray(), TensorData.ReadFloats(value).Select(v => beta * v).ToArray()));
                Remember(constant);
                return scaledName;
            }

            string betaName = graph.UniqueName(stem + "_beta");
            graph.AddConstant(scope, TensorData.CreateFloat(betaName, [], [beta]));
            string scaled = graph.UniqueName(stem + "_bias_scaled");
            nodes.Add(graph.CreateNode("Mul", graph.UniqueName(stem + "_bias_Mul"), [biasName, betaName], [scaled]));
            return scaled;
        }

        private void Remember(ConstantTensor constant)
        {
            if (!_replaced.Any(r => r.Owner == constant.Owner && r.Name == constant.Name))
            {
                _replaced.Add(constant);
            }
        }

        private static AttributeProto IntAttribute(string name, long value) =>
            new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };
    }
}
