using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;

namespace Compress.Core.Passes.Qdq;

/// <summary>
/// Which Conv shapes ONNX Runtime's CPU integer kernels run faster than float. MLAS's symmetric
/// (U8S8 / S8S8, weight zero point 0) convolution on x86 handles a depthwise Conv only when the
/// channel count is a multiple of 16 (MlasConvSymPackWSize); any other depthwise QLinearConv takes
/// the generic MlasConvDepthwise loop, measured 3-4x slower than the float NCHWc kernel on ocr-cls
/// (200-channel 5x5: 1.46 ms int8 vs 0.33 ms fp32). Such a 2-D Conv is left in float.
/// </summary>
internal static class IntegerConvKernels
{
    /// <summary>
    /// Up to this many input channels a 2-D Conv stays float: MLAS's indirect int8 kernel needs 4, and padding 1–2 channels
    /// to 4 multiplies the work by 2–4 (3 channels are padded, <see cref="InputChannelPadding"/>).
    /// </summary>
    public const int MaxFloatInputChannels = 2;

    /// <summary>
    /// A Conv reading 3 channels (padded to 4) into fewer outputs than this stays float too: its int8 GEMM is too narrow to pay
    /// for the padding (ocr-cls's 3→8 first Conv: whole model 0.80 → 0.75 of fp32 in float; ocr-det's 3→16 one is faster in int8).
    /// </summary>
    public const int MinNarrowInputOutputChannels = 16;

    /// <summary>The channel multiple of MLAS's x86 symmetric depthwise kernel.</summary>
    public const int DepthwiseChannelAlignment = 16;

    /// <summary>A depthwise Conv: one group per channel, each reading one input channel (weight [channels, 1, k…]).</summary>
    public static bool IsDepthwise(NodeProto conv, IReadOnlyList<long> weightDims)
    {
        long group = ModelGraph.GetInt(conv, "group", 1);
        return group > 1 && weightDims.Count >= 3 && weightDims[1] == 1 && weightDims[0] == group;
    }

    /// <summary>Null when QLinearConv is expected to be fast for <paramref name="node"/> with weight <paramref name="weight"/>, else why it is left in float.</summary>
    public static string? SlowIntegerKernelReason(NodeProto node, ConstantTensor weight)
    {
        // Only 2-D: ORT's float NCHWc kernels that beat the generic int8 loop exist for 2-D Convs only; a 1-D depthwise
        // Conv runs ORT's generic float path (one small GEMM per group), slower than the int8 loop (Silero 258 channels).
        if (node.OpType != "Conv" || weight.Dims.Count != 4)
        {
            return null;
        }

        long group = ModelGraph.GetInt(node, "group", 1);
        long outputChannels = weight.Dims[0];
        if (group == 1 && weight.Dims[1] <= MaxFloatInputChannels)
        {
            return $"Conv reading {weight.Dims[1]} input channel(s): ONNX Runtime's int8 kernels need 4, and padding to 4 costs more than the float kernel (fashion-cnn's 1-channel first Conv: 0.97 ms int8 vs 0.37 ms float)";
        }

        if (group == 1 && weight.Dims[1] <= MaxFloatInputChannels + 1 && outputChannels < MinNarrowInputOutputChannels)
        {
            return $"Conv reading {weight.Dims[1]} input channels into {outputChannels} outputs: ONNX Runtime's int8 kernel needs 4 inputs, and for fewer than {MinNarrowInputOutputChannels} outputs padding costs more than the float kernel (ocr-cls's 3→8 first Conv)";
        }

        if (IsDepthwise(node, weight.Dims) && group % DepthwiseChannelAlignment != 0)
        {
            return $"depthwise Conv with {group} channels: ONNX Runtime's int8 depthwise kernel needs a multiple of {DepthwiseChannelAlignment} channels and is slower than float otherwise";
        }

        return null;
    }
}
