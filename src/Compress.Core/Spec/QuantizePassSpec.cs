namespace Compress.Core.Spec;

/// <summary>
/// Options of a <c>quantize</c> pass. Keys and meanings follow onnxruntime.quantization's Python options
/// (<c>per_channel</c>, <c>reduce_range</c>, <c>weight_type</c>, <c>activation_type</c>, <c>quant_format</c>,
/// <c>op_types_to_quantize</c>, <c>nodes_to_quantize</c>, <c>nodes_to_exclude</c>, <c>calibrate_method</c>,
/// <c>extra_options</c>) and, for mode weight_only, its MatMulNBits quantizer (<c>bits</c>, <c>block_size</c>,
/// <c>accuracy_level</c>). Options of other modes keep their defaults.
/// </summary>
public sealed class QuantizePassSpec : PassSpec
{
    /// <summary>The pass name in YAML.</summary>
    public const string PassKind = "quantize";

    /// <summary>
    /// Op types quantized when <c>op_types_to_quantize</c> is omitted in mode dynamic. This is Compress's dynamic
    /// default: ORT's dynamic registry has no Gemm, Compress quantizes Gemm as well.
    /// </summary>
    public static IReadOnlyList<string> DefaultOpTypesToQuantize { get; } = ["MatMul", "Gemm"];

    /// <summary>
    /// Op types quantized when <c>op_types_to_quantize</c> is omitted in mode static: every op the static pass
    /// supports, as ORT's default is every op of its registries, so int8 chains are not broken by float islands.
    /// </summary>
    public static IReadOnlyList<string> DefaultStaticOpTypesToQuantize => Passes.StaticQuantizationOptions.SupportedOpTypes;

    /// <summary>
    /// Op types quantized when <c>op_types_to_quantize</c> is omitted in mode weight_only. ORT's default is MatMul;
    /// Compress also takes Gemm, and Conv, whose int8 weights ONNX Runtime turns back into float at load (no run-time
    /// cost), so a CNN's file shrinks too.
    /// </summary>
    public static IReadOnlyList<string> DefaultWeightOnlyOpTypesToQuantize { get; } = ["MatMul", "Gemm", "Conv"];

    /// <summary>Creates a pass with every option at its default.</summary>
    public QuantizePassSpec()
        : base(PassKind)
    {
    }

    /// <summary>How activations are treated (<c>mode:</c>, required in YAML).</summary>
    public QuantizationMode Mode { get; init; } = QuantizationMode.Dynamic;

    /// <summary>One scale (and zero point) per output channel of a weight instead of one per tensor.</summary>
    public bool PerChannel { get; init; }

    /// <summary>Quantize weights to 7 bits, for CPUs without VNNI whose int8 dot products can saturate.</summary>
    public bool ReduceRange { get; init; }

    /// <summary>Integer type of quantized weights (dynamic and static).</summary>
    public QuantType WeightType { get; init; } = QuantType.QInt8;

    /// <summary>
    /// Integer type of quantized activations. Static: default QUInt8 (U8S8 with QInt8 weights, the fastest
    /// combination of ORT's x64 CPU kernels and <c>get_qdq_config</c>'s default; <c>quantize_static</c>'s own
    /// default is QInt8). Dynamic: always QUInt8, as in ORT.
    /// </summary>
    public QuantType ActivationType { get; init; } = QuantType.QUInt8;

    /// <summary>Static only: QDQ pairs (default) or QLinear operators.</summary>
    public QuantFormat QuantFormat { get; init; } = QuantFormat.QDQ;

    /// <summary>Op types whose nodes are quantized; never empty. The default depends on the mode.</summary>
    public IReadOnlyList<string> OpTypesToQuantize { get; init; } = DefaultOpTypesToQuantize;

    /// <summary>Exact node names to quantize; empty means every node of a listed op type.</summary>
    public IReadOnlyList<string> NodesToQuantize { get; init; } = [];

    /// <summary>Node-name globs (<c>*</c> any run of characters, <c>?</c> one character) never quantized.</summary>
    public IReadOnlyList<string> NodesToExclude { get; init; } = [];

    /// <summary>Static only (required there): the sample data and how ranges are calibrated; null for other modes.</summary>
    public CalibrationSpec? Calibration { get; init; }

    /// <summary>Whether this is a static pass with calibration data: the passes whose settings tuning may change.</summary>
    public bool IsCalibratedStatic() => Mode == QuantizationMode.Static && Calibration is not null;

    /// <summary>Static: symmetric activation ranges (ORT <c>ActivationSymmetric</c>).</summary>
    public bool ActivationSymmetric { get; init; }

    /// <summary>
    /// Symmetric weight ranges (ORT <c>WeightSymmetric</c>); null takes ORT's default: true when the weight
    /// type is signed.
    /// </summary>
    public bool? WeightSymmetric { get; init; }

    /// <summary>Static QDQ: quantize biases to int32 (ORT <c>QuantizeBias</c>); false keeps float biases.</summary>
    public bool QuantizeBias { get; init; } = true;

    /// <summary>Smallest allowed width (rmax − rmin) of a quantization range (ORT <c>MinimumRealRange</c>); null: no minimum.</summary>
    public float? MinimumRealRange { get; init; }

    /// <summary>
    /// Only quantize MatMul whose B input is constant (ORT <c>MatMulConstBOnly</c>); null takes ORT's default:
    /// true for dynamic, false for static.
    /// </summary>
    public bool? MatMulConstBOnly { get; init; }

    /// <summary>Quantize ops such as MaxPool even when their input is not quantized (ORT <c>ForceQuantizeNoInputCheck</c>).</summary>
    public bool ForceQuantizeNoInputCheck { get; init; }

    /// <summary>Static: per-node settings, applied in order (later entries win for the settings they give).</summary>
    public IReadOnlyList<NodeOverrideSpec> NodeOverrides { get; init; } = [];

    /// <summary>Weight-only: bits per quantized weight, 4 or 8.</summary>
    public int Bits { get; init; } = 4;

    /// <summary>Weight-only: weights per block sharing one scale (and zero point); a power of two in [16, 256].</summary>
    public int BlockSize { get; init; } = 32;

    /// <summary>Weight-only: symmetric blocks (no zero points).</summary>
    public bool Symmetric { get; init; } = true;

    /// <summary>Weight-only: MatMulNBits <c>accuracy_level</c> (0 unset, 1 fp32, 2 fp16, 3 bf16, 4 int8 compute); null leaves it out.</summary>
    public int? AccuracyLevel { get; init; }

    /// <summary>Weight-only: how block scales are stored (<c>scale_type</c>; float16 where they fit by default).</summary>
    public WeightScaleType ScaleType { get; init; } = WeightScaleType.Auto;

    /// <summary>The op types quantized by default in <paramref name="mode"/>.</summary>
    public static IReadOnlyList<string> DefaultOpTypesFor(QuantizationMode mode) => mode switch
    {
        QuantizationMode.Static => DefaultStaticOpTypesToQuantize,
        QuantizationMode.WeightOnly => DefaultWeightOnlyOpTypesToQuantize,
        _ => DefaultOpTypesToQuantize,
    };

    /// <summary>
    /// Whether a node passes the name filters: listed in <see cref="NodesToQuantize"/> (or that list is empty)
    /// and matching no glob of <see cref="NodesToExclude"/>. The op-type filter is checked separately.
    /// </summary>
    public bool SelectsNode(string nodeName)
    {
        ArgumentNullException.ThrowIfNull(nodeName);
        if (NodesToQuantize.Count > 0 && !NodesToQuantize.Contains(nodeName, StringComparer.Ordinal))
        {
            return false;
        }

        return !NodesToExclude.Any(glob => NodeNameGlob.IsMatch(glob, nodeName));
    }

    /// <summary>
    /// The settings for one node: the name filters (<see cref="SelectsNode"/>), then <see cref="NodeOverrides"/>
    /// in order, each setting taken from the last matching entry that gives it. The op-type filter is checked separately.
    /// </summary>
    public NodeQuantizationSettings SettingsFor(string nodeName)
    {
        bool quantize = SelectsNode(nodeName);
        QuantType activationType = ActivationType, weightType = WeightType;
        bool perChannel = PerChannel;
        foreach (NodeOverrideSpec entry in NodeOverrides.Where(o => o.Matches(nodeName)))
        {
            quantize = entry.Exclude is { } exclude ? !exclude && SelectsNode(nodeName) : quantize;
            activationType = entry.ActivationType ?? activationType;
            weightType = entry.WeightType ?? weightType;
            perChannel = entry.PerChannel ?? perChannel;
        }

        return new NodeQuantizationSettings(quantize, activationType, weightType, perChannel);
    }
}
