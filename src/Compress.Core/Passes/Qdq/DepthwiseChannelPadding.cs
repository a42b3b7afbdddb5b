using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;

namespace Compress.Core.Passes.Qdq;

/// <summary>
/// Widens the channels that flow into a 2-D depthwise Conv to a multiple of 16 with all-zero channels, so that ONNX
/// Runtime runs the depthwise Conv on its fast int8 kernel (<see cref="IntegerConvKernels"/>) instead of leaving it in
/// float between a DequantizeLinear and a QuantizeLinear. The group-1 Conv producing the channels gets zero output rows
/// and zero bias, and everything structured pruning would shrink along the same channels grows alike (depthwise weights
/// and groups, per-channel constants, squeeze-excitation gates, the input columns of the Convs reading them), by the
/// same trace (<see cref="StructuredPruningPlan"/>). Every element-wise operator on the way (Relu, hard-swish, BatchNorm
/// with zero parameters) maps 0 to 0, and the readers' zero columns ignore the new channels: the outputs are unchanged,
/// and activation ranges (which contain 0) stay valid. ocr-cls: depthwise Convs of 8–200 channels.
/// </summary>
internal static class DepthwiseChannelPadding
{
    /// <summary>
    /// Pads the producers of every depthwise Conv that <paramref name="quantizable"/> accepts and whose channel count is not
    /// a multiple of <see cref="IntegerConvKernels.DepthwiseChannelAlignment"/>; returns one note per padded producer and the
    /// zero weights added.
    /// </summary>
    public static (List<string> Notes, long ZeroWeights) Apply(ModelGraph graph, Func<GraphNode, bool> quantizable)
    {
        const int alignment = IntegerConvKernels.DepthwiseChannelAlignment;
        var notes = new List<string>();
        long total = 0;
        foreach (NodeProto producer in graph.Main.Graph.Node.ToList())
        {
            // The layer as structured pruning sees it (its own weight, per-output bias, where its channels flow); a scalar
            // bias is refused, since it would make the new channels non-zero.
            bool hasBias = producer.Input.Count > 2 && producer.Input[2].Length > 0;
            if (producer.OpType != "Conv" || !ModelGraph.IsDefaultDomain(producer.Domain)
                || StructuredPruning.Prepare(graph, new GraphNode(graph.Main, producer), rows => rows % alignment == 0 ? "aligned already" : null, out _) is not { } layer
                || layer.Weight.Constant.Dims.Count != 4 || (hasBias && layer.Bias is null) || layer.Plan.Depthwise.Count == 0
                || !layer.Plan.Depthwise.All(d => graph.Main.FindConstant(d.Input[1]) is { Dims.Count: 4 } && quantizable(new GraphNode(graph.Main, d))))
            {
                continue;
            }

            (MagnitudePruningWeight weight, StructuredPruningPlan plan, int channels) = (layer.Weight, layer.Plan, layer.Before);

            int padded = (channels + alignment - 1) / alignment * alignment;
            int[] keep = [.. Enumerable.Range(0, channels), .. Enumerable.Repeat(-1, padded - channels)];
            // Only weights count as quantized parameters (biases become int32), so the zeros added are counted on weights.
            string[] weights = [weight.Constant.Name, .. plan.Sinks.Select(w => w.Constant.Name), .. plan.OffsetSinks.Select(s => s.Weight.Constant.Name), .. plan.Coupled.Select(c => c.Weight.Constant.Name), .. plan.Depthwise.Select(d => d.Input[1])];
            long WeightElements() => weights.Sum(name => TensorData.ElementCount(graph.Main.FindConstant(name)!.Value!));
            long before = WeightElements();
            long added = -StructuredPruning.Reindex(graph, weight, layer.Bias, plan, keep, channels);
            total += WeightElements() - before;
            notes.Add($"{MagnitudePruningWeight.NodeLabel(producer)}: {channels} -> {padded} output channels ({padded - channels} zero, {added} zero parameters) " +
                $"so that the depthwise Conv(s) {string.Join(", ", plan.Depthwise.Select(MagnitudePruningWeight.NodeLabel))} run ONNX Runtime's int8 depthwise kernel");
        }

        return (notes, total);
    }
}
