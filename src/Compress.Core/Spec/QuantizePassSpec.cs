namespace Compress.Core.Spec;

/// <summary>
/// Options of a <c>quantize</c> pass. Keys and meanings follow onnxruntime.quantization's Python options
/// (<c>per_channel</c>, <c>reduce_range</c>, <c>weight_type</c>, <c>op_types_to_quantize</c>,
/// <c>nodes_to_quantize</c>, <c>nodes_to_exclude</c>).
/// </summary>
public sealed class QuantizePassSpec : PassSpec
{
    /// <summary>The pass name in YAML.</summary>
    public const string PassKind = "quantize";

    /// <summary>
    /// Op types quantized when <c>op_types_to_quantize</c> is omitted. This is Compress's dynamic default:
    /// ORT's dynamic registry has no Gemm, Compress quantizes Gemm as well.
    /// </summary>
    public static IReadOnlyList<string> DefaultOpTypesToQuantize { get; } = ["MatMul", "Gemm"];

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

    /// <summary>Integer type of quantized weights.</summary>
    public QuantType WeightType { get; init; } = QuantType.QInt8;

    /// <summary>Op types whose nodes are quantized; never empty.</summary>
    public IReadOnlyList<string> OpTypesToQuantize { get; init; } = DefaultOpTypesToQuantize;

    /// <summary>Exact node names to quantize; empty means every node of a listed op type.</summary>
    public IReadOnlyList<string> NodesToQuantize { get; init; } = [];

    /// <summary>Node-name globs (<c>*</c> any run of characters, <c>?</c> one character) never quantized.</summary>
    public IReadOnlyList<string> NodesToExclude { get; init; } = [];

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
}
