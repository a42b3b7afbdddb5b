using Compress.Core.Spec;

namespace Compress.Core.Passes;

/// <summary>
/// Options of <see cref="StaticQuantization"/>, named after onnxruntime.quantization.quantize_static
/// and its <c>extra_options</c>; defaults are quantize_static's.
/// </summary>
public sealed class StaticQuantizationOptions
{
    /// <summary>Every operator type the pass can quantize (the default of <see cref="OpTypesToQuantize"/>).</summary>
    public static IReadOnlyList<string> SupportedOpTypes { get; } =
    [
        "Conv", "ConvTranspose", "MatMul", "Gemm", "Add", "Mul", "Concat", "MaxPool", "AveragePool", "GlobalAveragePool",
        "Relu", "Clip", "Sigmoid", "Softmax", "LeakyRelu", "Resize", "Reshape", "Transpose", "Squeeze", "Unsqueeze", "Flatten",
        "Gather", "Slice", "Split", "Pad", "Identity",
    ];

    /// <summary>QDQ (default) or QOperator.</summary>
    public StaticQuantFormat QuantFormat { get; init; } = StaticQuantFormat.QDQ;

    /// <summary>Integer type of activations (QInt8 by default, as quantize_static).</summary>
    public QuantType ActivationType { get; init; } = QuantType.QInt8;

    /// <summary>Integer type of weights.</summary>
    public QuantType WeightType { get; init; } = QuantType.QInt8;

    /// <summary>One scale per output channel for Conv/ConvTranspose/MatMul/Gemm weights.</summary>
    public bool PerChannel { get; init; }

    /// <summary>7-bit weights for CPUs without VNNI.</summary>
    public bool ReduceRange { get; init; }

    /// <summary>Symmetric activation ranges (zero point at the middle of the integer range).</summary>
    public bool ActivationSymmetric { get; init; }

    /// <summary>Symmetric weights; null means true for signed weight types (ORT's default).</summary>
    public bool? WeightSymmetric { get; init; }

    /// <summary>Operator types to quantize (default: <see cref="SupportedOpTypes"/>).</summary>
    public IReadOnlyList<string> OpTypesToQuantize { get; init; } = SupportedOpTypes;

    /// <summary>Node names to quantize; empty means every node of a selected type.</summary>
    public IReadOnlyList<string> NodesToQuantize { get; init; } = [];

    /// <summary>Node-name globs of nodes to leave in float.</summary>
    public IReadOnlyList<string> NodesToExclude { get; init; } = [];

    /// <summary>Quantize Conv/Gemm bias to int32 with scale = input scale × weight scale (QuantizeBias).</summary>
    public bool QuantizeBias { get; init; } = true;

    /// <summary>Per-node overrides (first match wins).</summary>
    public IReadOnlyList<StaticNodeOverride> NodeOverrides { get; init; } = [];

    /// <summary>Lower bound of rmax − rmin for every activation range (MinimumRealRange); null = none.</summary>
    public float? MinimumRealRange { get; init; }

    /// <summary>
    /// Quantize data-movement ops (Reshape, Slice, MaxPool…) even when their input is not quantized
    /// (ORT <c>ForceQuantizeNoInputCheck</c>). Off, as in ORT: such an op is quantized only when its input
    /// already is, so Q/DQ pairs never appear on tensors that no integer kernel reads.
    /// </summary>
    public bool ForceQuantizeNoInputCheck { get; init; }

    /// <summary>Whether weights of <paramref name="type"/> are symmetric under these options.</summary>
    internal bool IsWeightSymmetric(QuantType type) => WeightSymmetric ?? type == QuantType.QInt8;
}
