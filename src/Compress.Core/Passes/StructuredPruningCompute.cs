using Compress.Core.Onnx.Proto;

namespace Compress.Core.Passes;

/// <summary>
/// The compute per sample of the layers a global structured cut shrinks, as a function of how many outputs each keeps, in
/// multiply-adds: a layer's own weights (its inputs shrink with the layer feeding it, when that is one of them), the
/// depthwise and gate Convs its channels flow through, its input blocks in consuming layers that are not pruned
/// themselves, and <see cref="ElementCost"/> per element of every activation tensor its channels shrink.
/// Counting both sides of a pruned pair together is what makes the count follow the real model (removing a quarter of
/// the outputs of two 1x1 Convs in a row saves 44 % of the second one, not 25 %).
/// </summary>
internal sealed class StructuredPruningCompute
{
    /// <summary>
    /// Multiply-adds one activation element is worth in time. Multiply-adds alone made ocr-det's global cut remove more of
    /// them than the per-layer cut yet run at 0.87 of fp32 instead of 0.77: its 320x320 and 160x160 layers have few
    /// channels and spend their time moving activations (depthwise Convs, BatchNormalization, hard-swish). With 16 the two
    /// cuts ran equally fast (0.763 and 0.764 of fp32, ORT 1 thread, AVX-512).
    /// </summary>
    public const double ElementCost = 16;

    private readonly Layer[] _layers;

    private StructuredPruningCompute(Layer[] layers) => _layers = layers;

    /// <param name="Producer">Index of the pruned layer whose channels this layer reads, or -1.</param>
    /// <param name="Inputs">Input channels when there is no producer.</param>
    /// <param name="Block">Weights per input channel per output (kH·kW, 1 for Gemm/MatMul).</param>
    /// <param name="Positions">Output positions of the layer.</param>
    /// <param name="PerChannel">Fixed cost per kept output: activation elements, depthwise and gate Convs, and unpruned consumers.</param>
    private sealed record Layer(int Producer, int Inputs, int Block, long Positions, double PerChannel);

    /// <summary>Builds the count for <paramref name="layers"/> (weight, channel plan and outputs of each) from measured tensor shapes.</summary>
    public static StructuredPruningCompute Build(IReadOnlyList<(MagnitudePruningWeight Weight, StructuredPruningPlan Plan, int Channels)> layers, IReadOnlyDictionary<string, long[]> shapes)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < layers.Count; i++)
        {
            index[MagnitudePruningWeight.NodeLabel(layers[i].Weight.Nodes[0].Node)] = i;
        }

        var producer = Enumerable.Repeat(-1, layers.Count).ToArray();
        var perChannel = new double[layers.Count];
        for (int i = 0; i < layers.Count; i++)
        {
            (MagnitudePruningWeight weight, StructuredPruningPlan plan, int channels) = layers[i];
            // Every tensor the channel shrinks is memory traffic for the operators that read and write it.
            bool lastAxis = weight.Nodes[0].Node.OpType == "MatMul";
            perChannel[i] += ElementCost * plan.Tensors.Where(shapes.ContainsKey).Sum(t => (double)StructuredPruningPositions.Positions(shapes[t], lastAxis));
            foreach (NodeProto depthwise in plan.Depthwise)
            {
                long window = weight.Nodes[0].Graph.FindConstant(depthwise.Input[1])?.Dims.Skip(1).Aggregate(1L, (a, b) => a * b) ?? 0;
                perChannel[i] += (double)window * StructuredPruningPositions.Positions(depthwise, shapes);
            }

            foreach (StructuredPruningCoupling coupled in plan.Coupled)
            {
                perChannel[i] += (double)coupled.Weight.Columns * StructuredPruningPositions.Positions(coupled.Node, shapes);
            }

            foreach (MagnitudePruningWeight sink in plan.Sinks)
            {
                NodeProto node = sink.Nodes[0].Node;
                if (index.TryGetValue(MagnitudePruningWeight.NodeLabel(node), out int j))
                {
                    producer[j] = i;
                }
                else
                {
                    perChannel[i] += (double)sink.Rows * (sink.Columns / channels) * StructuredPruningPositions.Positions(node, shapes);
                }
            }
        }

        var result = new Layer[layers.Count];
        for (int i = 0; i < layers.Count; i++)
        {
            MagnitudePruningWeight weight = layers[i].Weight;
            int inputs = weight.Nodes[0].Node.OpType == "Conv" ? (int)weight.Constant.Dims[1] : weight.Columns;
            result[i] = new Layer(producer[i], inputs, weight.Columns / inputs, StructuredPruningPositions.Positions(weight.Nodes[0].Node, shapes), perChannel[i]);
        }

        return new StructuredPruningCompute(result);
    }

    /// <summary>The compute per sample (in multiply-adds) with <paramref name="kept"/>[i] outputs kept in layer i.</summary>
    public double MultiplyAdds(IReadOnlyList<int> kept)
    {
        double total = 0;
        for (int i = 0; i < _layers.Length; i++)
        {
            Layer layer = _layers[i];
            int inputs = layer.Producer >= 0 ? kept[layer.Producer] : layer.Inputs;
            total += kept[i] * (((double)inputs * layer.Block * layer.Positions) + layer.PerChannel);
        }

        return total;
    }
}
