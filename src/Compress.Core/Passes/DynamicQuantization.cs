using System.Globalization;
using System.Text.RegularExpressions;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Spec;

namespace Compress.Core.Passes;

/// <summary>
/// Dynamic int8 quantization of MatMul, Gemm and — when listed in
/// <see cref="DynamicQuantizationOptions.OpTypesToQuantize"/> — Conv and LSTM weights, as
/// onnxruntime.quantization.quantize_dynamic does: constant weights become 8-bit tensors with scales (and zero points); activations are
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
/// Conv becomes DynamicQuantizeLinear → ConvInteger → Cast → Mul [→ Add] (see
/// <see cref="DynamicQuantizationConv"/>), LSTM becomes com.microsoft DynamicQuantizeLSTM (see
/// <see cref="DynamicQuantizationLstm"/>); ConvTranspose and GRU have no integer form and are
/// reported as skipped when listed.
/// </remarks>
public static class DynamicQuantization
{
    /// <summary>The name this pass uses in reports.</summary>
    public const string PassName = "dynamic_quantization";

    /// <summary>Op types the pass knows: quantized (MatMul, Gemm, Conv, LSTM) or reported with the reason they stay float.</summary>
    internal static readonly IReadOnlyList<string> SupportedOpTypes = ["MatMul", "Gemm", "Conv", "LSTM", "ConvTranspose", "GRU"];

    // DynamicQuantizeLinear, which ConvInteger's activations need, is ai.onnx 11.
    private const long ConvOpset = 11;

    /// <summary>Quantizes the selected MatMul/Gemm/Conv/LSTM nodes of <paramref name="model"/> in place.</summary>
    /// <returns>What was quantized and what was skipped, with reasons.</returns>
    public static PassReport Run(ModelProto model, DynamicQuantizationOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        var report = new PassReport(PassName);
        UpgradeForConv(model, options, report);
        var graph = new ModelGraph(model);
        long opset = graph.OpsetVersion(ModelGraph.DefaultDomain);
        DynamicQuantizationForm form = ChooseForm(options.Form, opset, report);
        var state = new DynamicQuantizationRun(graph, options, form, report);

        var selected = new HashSet<string>(options.OpTypesToQuantize, StringComparer.Ordinal);
        foreach (string opType in selected.Where(t => !SupportedOpTypes.Contains(t)).Order(StringComparer.Ordinal))
        {
            report.AddNote($"op type '{opType}' is not quantized by dynamic quantization (supported: {string.Join(", ", SupportedOpTypes)})");
        }

        int candidates = 0;
        foreach (GraphNode candidate in graph.AllNodes().ToList())
        {
            NodeProto node = candidate.Node;
            if (!ModelGraph.IsDefaultDomain(node.Domain) || !SupportedOpTypes.Contains(node.OpType))
            {
                continue;
            }

            bool isSelectedType = selected.Contains(node.OpType);
            if (isSelectedType)
            {
                candidates++;
            }
            else if (node.OpType is not ("MatMul" or "Gemm"))
            {
                // Only the default op types are listed as "not selected": listing every Conv of a
                // CNN that nobody asked to quantize would bury the useful entries.
                continue;
            }

            string? reason = SelectionReason(node, options) ?? node.OpType switch
            {
                "Conv" => DynamicQuantizationConv.TryQuantize(state, candidate, opset),
                "LSTM" => DynamicQuantizationLstm.TryQuantize(state, candidate),
                "ConvTranspose" => "ConvTranspose has no integer form (ONNX has no ConvTransposeInteger, ORT no dynamic kernel): left float",
                "GRU" => "GRU has no dynamic integer form (ONNX Runtime has DynamicQuantizeLSTM but no DynamicQuantizeGRU): left float",
                _ => TryQuantize(state, candidate),
            };
            if (reason is not null)
            {
                report.AddSkipped(new SkippedNode(NodeLabels.Of(node), node.OpType, candidate.Graph.Path, reason));
            }
        }

        if (candidates == 0)
        {
            report.AddNote($"no {string.Join(" or ", options.OpTypesToQuantize)} node in any of the {graph.Graphs.Count} graph(s): nothing to quantize");
        }

        foreach (ConstantTensor replaced in state.ReplacedConstants)
        {
            if (graph.RemoveConstantIfUnused(replaced))
            {
                report.ConstantsRemoved++;
            }
        }

        string[] contribOps = graph.AllNodes().Where(n => n.Node.Domain == ModelGraph.MicrosoftDomain && n.Node.OpType is "DynamicQuantizeMatMul" or "DynamicQuantizeLSTM")
            .Select(n => n.Node.OpType).Distinct().Order(StringComparer.Ordinal).ToArray();
        if (report.NodesQuantized > 0 && contribOps.Length > 0 && graph.EnsureOpset(ModelGraph.MicrosoftDomain, 1))
        {
            report.AddNote($"added opset import com.microsoft version 1 for {string.Join(", ", contribOps)}");
        }

        if (report.NodesQuantized > 0)
        {
            report.AddNote(string.Create(
                CultureInfo.InvariantCulture,
                $"weights {options.WeightType} {(options.PerChannel ? "per-channel" : "per-tensor")}{(options.ReduceRange ? ", reduce_range (7-bit)" : string.Empty)}; activations uint8 quantized at run time"));
        }

        return report;
    }

    /// <summary>
    /// ConvInteger's activations come from DynamicQuantizeLinear (ai.onnx 11), which has no contrib stand-in like
    /// DynamicQuantizeMatMul: a model below 11 with a selected Conv is upgraded, as static quantization upgrades to 13,
    /// when the upgrade keeps its meaning (onnxruntime.quantization only rewrites the opset number). Nothing changes
    /// for a model without Conv or without Conv in <c>op_types_to_quantize</c>.
    /// </summary>
    private static void UpgradeForConv(ModelProto model, DynamicQuantizationOptions options, PassReport report)
    {
        var graph = new ModelGraph(model);
        long opset = graph.OpsetVersion(ModelGraph.DefaultDomain);
        if (opset >= ConvOpset
            || !options.OpTypesToQuantize.Contains("Conv", StringComparer.Ordinal)
            || !graph.AllNodes().Any(n => n.Node.OpType == "Conv" && ModelGraph.IsDefaultDomain(n.Node.Domain)))
        {
            return;
        }

        OpsetUpgradeResult upgrade = OpsetUpgrade.Upgrade(model, ConvOpset);
        report.AddNote(upgrade.Upgraded
            ? $"upgraded ai.onnx opset {opset} -> {ConvOpset} for ConvInteger's DynamicQuantizeLinear{(upgrade.Changes.Count > 0 ? ": " + string.Join("; ", upgrade.Changes) : string.Empty)}"
            : $"kept opset {opset} (cannot upgrade to {ConvOpset}: {upgrade.Reason})");
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
    private static string? TryQuantize(DynamicQuantizationRun state, GraphNode candidate)
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

        if (!MatMulWeightLookup.TryFind(scope, node, out ConstantTensor? weight, out TensorProto? value, out string? reason))
        {
            return reason;
        }

        bool transB = isGemm && ModelGraph.GetInt(node, "transB", 0) != 0;
        float alpha = isGemm ? ModelGraph.GetFloat(node, "alpha", 1f) : 1f;
        float beta = isGemm ? ModelGraph.GetFloat(node, "beta", 1f) : 1f;
        string? biasName = isGemm && node.Input.Count > 2 && node.Input[2].Length > 0 ? node.Input[2] : null;
        DynamicQuantizedWeight quantized = state.GetOrQuantize(weight, value, transB, alpha);
        state.Report.AddWeightReader(quantized.Weight, node);
        long n = quantized.Columns;
        List<NodeProto> replacement = state.Form == DynamicQuantizationForm.Contrib
            ? state.EmitContrib(scope, node, quantized, biasName, beta, n)
            : state.EmitStandard(scope, node, quantized, biasName, beta, n);
        state.Graph.ReplaceNode(scope, node, replacement);
        state.Report.NodesQuantized++;
        return null;
    }
}
