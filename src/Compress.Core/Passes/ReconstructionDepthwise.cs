using Compress.Core.Calibration;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;

namespace Compress.Core.Passes;

/// <summary>
/// Refits a depthwise Conv (group = channels, weight [channels, 1, kH, kW] or [channels, 1, k]) that lost channels with the layer
/// feeding it: each output channel reads only its own input channel, so every channel is a least-squares
/// problem of kH·kW weights (plus its bias) on that channel's windows, solved on its own. The inputs are those
/// of the pruned model, so the refit absorbs the error of the refitted layers before it.
/// </summary>
internal static class ReconstructionDepthwise
{
    /// <summary>True for a 1-D or 2-D Conv whose groups are its channels, one input channel each.</summary>
    public static bool IsDepthwise(NodeProto node, MagnitudePruningWeight weight) =>
        node.OpType == "Conv" && weight.Constant.Dims.Count is 3 or 4 && weight.Constant.Dims[1] == 1 && ModelGraph.GetInt(node, "group", 1) == weight.Rows;

    public static ReconstructionLayer Refit(ModelProto model, ModelProto teacher, CalibrationDataSet data, ReconstructionOptions options, NodeProto node, NodeProto original, MagnitudePruningWeight weight, ConstantTensor? bias, int[] kept)
    {
        int channels = weight.Rows, window = weight.Columns;
        var systems = new ReconstructionSystem[channels];
        for (int c = 0; c < channels; c++)
        {
            systems[c] = new ReconstructionSystem(window, 1, bias is not null);
        }

        int positionsPerSample = options.ConvPositionsPerSample(data.SampleCount);
        var patch = new float[window];
        var target = new float[1];
        using (var inputs = new ReconstructionCapture(model, node.Input[0]))
        using (var outputs = new ReconstructionCapture(teacher, original.Output[0]))
        {
            foreach (CalibrationBatch batch in data.ReadBatches(options.BatchSize))
            {
                using (batch)
                {
                    float[] x = inputs.Read(batch, out long[] xShape);
                    float[] y = outputs.Read(batch, out long[] yShape);
                    AddRows(systems, node, weight, positionsPerSample, batch.FirstSample, x, xShape, y, yShape, kept, patch, target);
                }
            }
        }

        float[] values = weight.Read();
        float[]? biasValues = bias is null ? null : TensorData.ReadFloats(bias.Value!);
        double before = 0, after = 0, energy = 0;
        for (int c = 0; c < channels; c++)
        {
            var w = new double[systems[c].Size];
            for (int k = 0; k < window; k++)
            {
                w[k] = values[weight.Index(c, k)];
            }

            if (biasValues is not null)
            {
                w[window] = biasValues[c];
            }

            double[][] row = [w];
            (double[] b, double[] a) = systems[c].SolveAll(row, options.Damping);
            before += b[0];
            after += a[0];
            energy += systems[c].TargetEnergy;
            for (int k = 0; k < window; k++)
            {
                values[weight.Index(c, k)] = (float)w[k];
            }

            if (biasValues is not null)
            {
                biasValues[c] = (float)w[window];
            }
        }

        weight.Write(values);
        if (bias is not null)
        {
            ModelGraph.ReplaceConstant(bias, TensorData.CreateFloat(bias.Name, bias.Dims.ToArray(), biasValues));
        }

        energy = Math.Max(energy, double.Epsilon);
        return new ReconstructionLayer(MagnitudePruningWeight.NodeLabel(node), node.OpType, channels, window, systems[0].Rows, before / energy, after / energy);
    }

    /// <summary>For sampled output positions: each channel's kH×kW window of its own input channel, and the original output of that channel.</summary>
    private static void AddRows(ReconstructionSystem[] systems, NodeProto node, MagnitudePruningWeight weight, int positionsPerSample, int firstSample, float[] x, long[] xShape, float[] y, long[] yShape, int[] kept, float[] patch, float[] target)
    {
        var sampler = new ConvWindowSampler(node, [.. weight.Constant.Dims], xShape, yShape, positionsPerSample);
        int channels = (int)xShape[1], originalChannels = (int)yShape[1];
        foreach ((int s, int position) in sampler.Sampled((int)xShape[0], firstSample))
        {
            for (int c = 0; c < channels; c++)
            {
                sampler.FillWindow(x, s, c, position, patch.AsSpan(0, sampler.Window));
                target[0] = y[((((long)s * originalChannels) + kept[c]) * sampler.Positions) + position];
                systems[c].Add(patch, target);
            }
        }
    }
}
