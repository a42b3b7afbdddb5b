namespace Compress.Core.Spec;

/// <summary>
/// Options of a <c>float16</c> pass: float32 tensors become float16. Names and defaults follow
/// onnxconverter-common's <c>convert_float_to_float16</c> (<c>keep_io_types</c>, <c>op_block_list</c>,
/// <c>node_block_list</c>).
/// </summary>
public sealed class Float16PassSpec : PassSpec
{
    /// <summary>The pass name in YAML.</summary>
    public const string PassKind = "float16";

    /// <summary>
    /// Op types kept in float32 when <c>op_block_list</c> is omitted: onnxconverter-common's
    /// <c>DEFAULT_OP_BLOCK_LIST</c> (ops without float16 kernels in ONNX Runtime), plus the ops whose float
    /// types are fixed by an attribute or by the operator (random generators, EyeLike, quantize/dequantize ops),
    /// which ONNX Runtime's CPU provider cannot run in float16. The same list as the float16 pass's default.
    /// </summary>
    public static IReadOnlyList<string> DefaultOpBlockList => Passes.Float16ConversionOptions.DefaultOpBlockList;

    /// <summary>Creates a pass with every option at its default.</summary>
    public Float16PassSpec()
        : base(PassKind)
    {
    }

    /// <summary>Keep float32 graph inputs and outputs (Cast nodes are inserted), so callers need no change.</summary>
    public bool KeepIoTypes { get; init; }

    /// <summary>Op types that stay float32; a given list replaces <see cref="DefaultOpBlockList"/>.</summary>
    public IReadOnlyList<string> OpBlockList { get; init; } = DefaultOpBlockList;

    /// <summary>Node-name globs of nodes that stay float32.</summary>
    public IReadOnlyList<string> NodeBlockList { get; init; } = [];

    /// <summary>Whether the node stays float32: its op type is blocked or its name matches a glob.</summary>
    public bool BlocksNode(string opType, string nodeName)
    {
        ArgumentNullException.ThrowIfNull(opType);
        ArgumentNullException.ThrowIfNull(nodeName);
        return OpBlockList.Contains(opType, StringComparer.Ordinal) || NodeBlockList.Any(glob => NodeNameGlob.IsMatch(glob, nodeName));
    }
}
