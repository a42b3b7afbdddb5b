using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;

namespace Compress.Core.Passes.Qdq;

/// <summary>
/// Widens a quantized 2-D Conv that reads 3 input channels (an RGB image; 1–2 channels stay float, see
/// <see cref="IntegerConvKernels.MaxFloatInputChannels"/>) to 4,
/// with zero channels in front of its quantization and zero weights: same outputs, but ONNX Runtime's
/// x64 int8 convolution then takes its indirect kernel instead of im2col with K = 9 or 27, which made
/// such a first layer several times slower in int8 than in float (fashion-cnn: whole model 1.48 → 1.14
/// of fp32). The Pad runs in float on the small input tensor, before QuantizeLinear.
/// </summary>
internal static class InputChannelPadding
{
    private const int Multiple = 4;

    /// <summary>Pads <paramref name="node"/>'s input and weight when it qualifies; returns the padded input's name and the zero weights added, or null.</summary>
    public static (string Input, long ZeroWeights)? TryPad(ModelGraph graph, GraphScope scope, NodeProto node)
    {
        if (node.OpType != "Conv" || ModelGraph.GetInt(node, "group", 1) != 1 || node.Input.Count < 2
            || graph.OpsetVersion(ModelGraph.DefaultDomain) < 11
            || scope.FindConstant(node.Input[1]) is not { } weight || weight.Value is not { } value
            || weight.DataType != TensorProto.Types.DataType.Float || value.Dims.Count != 4 || value.Dims[1] >= Multiple)
        {
            return null;
        }

        long outputs = value.Dims[0];
        long channels = value.Dims[1];
        long kernel = value.Dims[2] * value.Dims[3];
        float[] w = TensorData.ReadFloats(value);
        var padded = new float[outputs * Multiple * kernel];
        for (long m = 0; m < outputs; m++)
        {
            Array.Copy(w, m * channels * kernel, padded, m * Multiple * kernel, channels * kernel);
        }

        string weightName = graph.UniqueName(weight.Name + "_channel_padded");
        graph.AddConstant(scope, TensorData.CreateFloat(weightName, [outputs, Multiple, value.Dims[2], value.Dims[3]], padded));
        string padsName = graph.UniqueName(node.Input[0] + "_channel_pads");
        graph.AddConstant(scope, TensorData.CreateInt64(padsName, [8], [0, 0, 0, 0, 0, Multiple - channels, 0, 0]));
        string paddedInput = graph.UniqueName(node.Input[0] + "_channel_padded");
        NodeProto pad = graph.CreateNode("Pad", graph.UniqueName(node.Name + "_input_channel_pad"), [node.Input[0], padsName], [paddedInput]);
        graph.InsertBefore(scope, node, [pad]);
        node.Input[0] = paddedInput;
        node.Input[1] = weightName;
        return (paddedInput, outputs * (Multiple - channels) * kernel);
    }
}
