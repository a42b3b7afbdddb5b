using Compress.Core.Calibration;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;

namespace Compress.Core.Passes;

/// <summary>
/// Refits a depthwise Conv (group = channels, weight [channels, 1, kH, kW]) that lost channels with the layer
/// feeding it: each output channel reads only its own input channel, so every channel is a least-squares
/// problem of kH·kW weights (plus its bias) on that channel's windows, solved on its own. The inputs are those
/// of the pruned model, so the refit absorbs the error of the refitted layers before it.
/// </summary>
internal static class ReconstructionDepthwise
{
    /// <summary>True for a 2-D Conv whose groups are its channels, one input channel each.</summary>
    public static bool IsDepthwise(NodeProto node, MagnitudePruningWeight weight) =>
        node.OpType == "Conv" && weight.Constant.Dims.Count == 4 && weight.Constant.Dims[1] == 1 && ModelGraph.GetInt(node, "group", 1) == weight.Rows;

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
        int samples = (int)xShape[0], channels = (int)xShape[1], height = (int)xShape[2], width = (int)xShape[3];
        int originalChannels = (int)yShape[1], outHeight = (int)yShape[2], outWidth = (int)yShape[3];
        int kh = (int)weight.Constant.Dims[2], kw = (int)weight.Constant.Dims[3];
        long[] strides = Reconstruction.Ints(node, "strides", [1, 1]);
        long[] dilations = Reconstruction.Ints(node, "dilations", [1, 1]);
        (int padTop, int padLeft) = Reconstruction.Pads(node, height, width, outHeight, outWidth, kh, kw, strides, dilations);
        int positions = outHeight * outWidth;
        int taken = Math.Min(positionsPerSample, positions);
        int spacing = Math.Max(1, positions / taken);
        for (int s = 0; s < samples; s++)
        {
            int offset = (firstSample + s) % spacing;
            for (int i = 0; i < taken; i++)
            {
                int position = (int)((((long)i * positions / taken) + offset) % positions);
                int oh = position / outWidth, ow = position % outWidth;
                for (int c = 0; c < channels; c++)
                {
                    long plane = (((long)s * channels) + c) * height * width;
                    int p = 0;
                    for (int ki = 0; ki < kh; ki++)
                    {
                        int ih = (int)((oh * strides[0]) - padTop + (ki * dilations[0]));
                        for (int kj = 0; kj < kw; kj++, p++)
                        {
                            int iw = (int)((ow * strides[1]) - padLeft + (kj * dilations[1]));
                            patch[p] = ih >= 0 && ih < height && iw >= 0 && iw < width ? x[plane + ((long)ih * width) + iw] : 0f;
                        }
                    }

                    target[0] = y[((((long)s * originalChannels) + kept[c]) * positions) + position];
                    systems[c].Add(patch, target);
                }
            }
        }
    }
}
