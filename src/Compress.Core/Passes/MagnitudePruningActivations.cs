using Compress.Core.Calibration;
using Compress.Core.Diagnostics;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Compress.Core.Passes;

/// <summary>
/// Activation-aware importance for unstructured pruning (Wanda, Sun et al. 2023): a weight counts as |w| times the
/// root mean square of the input channel it multiplies, measured on calibration data. A small weight on a loud
/// channel can matter more than a larger one on a quiet channel, which magnitude alone cannot see (in a network
/// whose BatchNormalization is not folded, raw weight magnitudes are not even on one scale across channels).
/// </summary>
/// <remarks>
/// One ONNX Runtime session of a copy of the model exposes the input of every measured layer; the per-channel sums
/// of squares are accumulated batch by batch, so memory does not grow with the number of samples. Layers inside
/// If/Loop branches (their inputs cannot be graph outputs) keep plain magnitude.
/// </remarks>
internal static class MagnitudePruningActivations
{
    /// <summary>
    /// For each weight whose readers are all in the main graph, a multiplier per stored element (storage order): the
    /// RMS of the input channel the element multiplies (summed in squares over all readers). Null for the others.
    /// </summary>
    public static float[]?[] Measure(ModelProto model, IReadOnlyList<MagnitudePruningWeight> weights, CalibrationDataSet data, int batchSize)
    {
        var channelAxes = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (MagnitudePruningWeight weight in weights.Where(w => w.Nodes.All(n => n.Graph.Graph == model.Graph)))
        {
            foreach (GraphNode reader in weight.Nodes)
            {
                channelAxes.TryAdd(reader.Node.Input[0], ChannelAxis(reader.Node));
            }
        }

        Dictionary<string, double[]> meanSquares = channelAxes.Count == 0 ? [] : MeasureChannels(model, channelAxes, data, batchSize);
        var multipliers = new float[]?[weights.Count];
        for (int i = 0; i < weights.Count; i++)
        {
            MagnitudePruningWeight weight = weights[i];
            if (weight.Nodes.Any(n => !meanSquares.ContainsKey(n.Node.Input[0])))
            {
                continue;
            }

            // Several readers of one weight: the channel's energy over all of them.
            double[] energy = new double[meanSquares[weight.Nodes[0].Node.Input[0]].Length];
            foreach (GraphNode reader in weight.Nodes)
            {
                double[] m = meanSquares[reader.Node.Input[0]];
                for (int c = 0; c < Math.Min(energy.Length, m.Length); c++)
                {
                    energy[c] += m[c];
                }
            }

            multipliers[i] = ElementMultipliers(weight, energy);
        }

        return multipliers;
    }

    /// <summary>The axis of a layer's input that its weight's input channels run along.</summary>
    private static int ChannelAxis(NodeProto node) => node.OpType switch
    {
        "Conv" => 1,
        "Gemm" when ModelGraph.GetInt(node, "transA", 0) != 0 => 0,
        _ => -1,
    };

    /// <summary>sqrt(energy) of the input channel each stored element multiplies.</summary>
    private static float[] ElementMultipliers(MagnitudePruningWeight weight, double[] energy)
    {
        NodeProto node = weight.Nodes[0].Node;
        long group = node.OpType == "Conv" ? ModelGraph.GetInt(node, "group", 1) : 1;
        long inputsPerGroup = node.OpType == "Conv" ? weight.Constant.Dims[1] : weight.Columns;
        int kernel = (int)(weight.Columns / inputsPerGroup);
        int rowsPerGroup = (int)Math.Max(1, weight.Rows / group);
        var multipliers = new float[weight.Count];
        for (int row = 0; row < weight.Rows; row++)
        {
            long firstChannel = row / rowsPerGroup * inputsPerGroup;
            for (int column = 0; column < weight.Columns; column++)
            {
                long channel = firstChannel + (column / kernel);
                multipliers[weight.Index(row, column)] = channel < energy.Length ? (float)Math.Sqrt(energy[channel]) : 0f;
            }
        }

        return multipliers;
    }

    /// <summary>Mean square per channel of each tensor over the calibration data, along the given axis (−1: the last).</summary>
    private static Dictionary<string, double[]> MeasureChannels(ModelProto model, Dictionary<string, int> channelAxes, CalibrationDataSet data, int batchSize)
    {
        HashSet<string> graphInputs = [.. model.Graph.Input.Select(i => i.Name).Except(model.Graph.Initializer.Select(t => t.Name))];
        string[] exposed = [.. channelAxes.Keys.Where(t => !graphInputs.Contains(t)).Order(StringComparer.Ordinal)];
        var sums = new Dictionary<string, (double[] Squares, long Count)>(StringComparer.Ordinal);
        try
        {
            using OrtModelSession session = OrtModelSession.OpenExposing(model, exposed);
            using var runOptions = new RunOptions();
            foreach (CalibrationBatch batch in data.ReadBatches(batchSize))
            {
                using (batch)
                {
                    foreach (string input in channelAxes.Keys.Where(graphInputs.Contains))
                    {
                        Accumulate(sums, input, channelAxes[input], batch[input]);
                    }

                    if (exposed.Length == 0)
                    {
                        continue;
                    }

                    using IDisposableReadOnlyCollection<OrtValue> outputs = session.Session.Run(runOptions, batch.InputNames, batch.Values, exposed);
                    for (int i = 0; i < exposed.Length; i++)
                    {
                        Accumulate(sums, exposed[i], channelAxes[exposed[i]], outputs[i]);
                    }
                }
            }
        }
        catch (OnnxRuntimeException e)
        {
            throw new CompressException(DiagnosticCodes.PassFailed, $"Pruning: ONNX Runtime failed while measuring the layers' inputs: {e.Message}", inner: e);
        }

        return sums.ToDictionary(p => p.Key, p => p.Value.Squares.Select(s => s / Math.Max(1, p.Value.Count)).ToArray(), StringComparer.Ordinal);
    }

    private static void Accumulate(Dictionary<string, (double[] Squares, long Count)> sums, string tensor, int axis, OrtValue value)
    {
        OrtTensorTypeAndShapeInfo info = value.GetTensorTypeAndShape();
        long[] shape = info.Shape;
        if (shape.Length == 0 || info.ElementDataType != TensorElementType.Float)
        {
            return;
        }

        int a = axis < 0 ? shape.Length - 1 : Math.Min(axis, shape.Length - 1);
        int channels = (int)shape[a];
        long inner = shape.Skip(a + 1).Aggregate(1L, (x, y) => x * y);
        ReadOnlySpan<float> x = value.GetTensorDataAsSpan<float>();
        if (!sums.TryGetValue(tensor, out (double[] Squares, long Count) sum) || sum.Squares.Length != channels)
        {
            sum = (new double[channels], 0);
        }

        // [outer, channels, inner] blocks: each channel's run of inner elements summed without a division per element.
        for (long offset = 0; offset < x.Length; offset += channels * inner)
        {
            for (int c = 0; c < channels; c++)
            {
                double squares = 0;
                foreach (float v in x.Slice((int)(offset + (c * inner)), (int)inner))
                {
                    squares += (double)v * v;
                }

                sum.Squares[c] += squares;
            }
        }

        sums[tensor] = (sum.Squares, sum.Count + (x.Length / channels));
    }
}
