using Compress.Core.Calibration;

namespace Compress.Core.Spec;

/// <summary>
/// Every key and enum spelling the v1 loader accepts, in one place: the loader validates against these
/// lists and tests check that compress.schema.yaml documents exactly them.
/// </summary>
internal static class SpecKeys
{
    public const string Version = "version";
    public const string Models = "models";

    public const string Name = "name";
    public const string Source = "source";
    public const string Output = "output";
    public const string Passes = "passes";

    public const string Mode = "mode";
    public const string PerChannel = "per_channel";
    public const string ReduceRange = "reduce_range";
    public const string WeightType = "weight_type";
    public const string ActivationType = "activation_type";
    public const string QuantFormat = "quant_format";
    public const string OpTypesToQuantize = "op_types_to_quantize";
    public const string NodesToQuantize = "nodes_to_quantize";
    public const string NodesToExclude = "nodes_to_exclude";
    public const string Calibration = "calibration";
    public const string CalibrateMethod = "calibrate_method";
    public const string ExtraOptions = "extra_options";
    public const string NodeOverrides = "node_overrides";
    public const string Bits = "bits";
    public const string BlockSize = "block_size";
    public const string Symmetric = "symmetric";
    public const string AccuracyLevel = "accuracy_level";
    public const string ScaleType = "scale_type";

    public const string Data = "data";
    public const string Method = "method";
    public const string Samples = "samples";
    public const string BatchSize = "batch_size";
    public const string Percentile = "percentile";
    public const string MovingAverage = "moving_average";
    public const string MovingAverageConstant = "moving_average_constant";

    public const string Nodes = "nodes";
    public const string Exclude = "exclude";

    public const string ActivationSymmetric = "ActivationSymmetric";
    public const string WeightSymmetric = "WeightSymmetric";
    public const string CalibMovingAverage = "CalibMovingAverage";
    public const string CalibMovingAverageConstant = "CalibMovingAverageConstant";
    public const string CalibPercentile = "CalibPercentile";
    public const string CalibTensorRangeSymmetric = "CalibTensorRangeSymmetric";
    public const string QuantizeBias = "QuantizeBias";
    public const string MinimumRealRange = "MinimumRealRange";
    public const string MatMulConstBOnly = "MatMulConstBOnly";
    public const string ForceQuantizeNoInputCheck = "ForceQuantizeNoInputCheck";

    public const string KeepIoTypes = "keep_io_types";
    public const string OpBlockList = "op_block_list";
    public const string NodeBlockList = "node_block_list";

    public const string RemoveIdentity = "remove_identity";
    public const string RemoveDropout = "remove_dropout";
    public const string RemoveDeadNodes = "remove_dead_nodes";
    public const string FoldBatchNorm = "fold_batch_norm";
    public const string FoldConstants = "fold_constants";
    public const string FuseHardSwish = "fuse_hard_swish";

    /// <summary>The spec format version this loader reads.</summary>
    public const int SupportedVersion = 1;

    public static IReadOnlyList<string> TopLevel { get; } = [Version, Models];

    public static IReadOnlyList<string> Model { get; } = [Name, Source, Output, Passes, EvaluateKeys.Evaluate, PruneKeys.Pack, PruneKeys.Storage];

    /// <summary>Pass names: the single key of each entry of <c>passes</c>.</summary>
    public static IReadOnlyList<string> PassKinds { get; } = [QuantizePassSpec.PassKind, Float16PassSpec.PassKind, CleanupPassSpec.PassKind, PrunePassSpec.PassKind, ReconstructPassSpec.PassKind];

    public static IReadOnlyList<string> QuantizeOptions { get; } =
    [
        Mode, PerChannel, ReduceRange, WeightType, ActivationType, QuantFormat, OpTypesToQuantize, NodesToQuantize,
        NodesToExclude, Calibration, CalibrateMethod, ExtraOptions, NodeOverrides, Bits, BlockSize, Symmetric, AccuracyLevel,
        ScaleType,
    ];

    private static readonly QuantizationMode[] AllModes = [QuantizationMode.Dynamic, QuantizationMode.Static, QuantizationMode.WeightOnly];
    private static readonly QuantizationMode[] IntegerModes = [QuantizationMode.Dynamic, QuantizationMode.Static];
    private static readonly QuantizationMode[] StaticOnly = [QuantizationMode.Static];
    private static readonly QuantizationMode[] WeightOnlyModes = [QuantizationMode.WeightOnly];

    /// <summary>The modes each quantize option applies to; any other mode rejects the key (CMP0017).</summary>
    public static IReadOnlyDictionary<string, QuantizationMode[]> QuantizeOptionModes { get; } = new Dictionary<string, QuantizationMode[]>(StringComparer.Ordinal)
    {
        [Mode] = AllModes,
        [PerChannel] = IntegerModes,
        [ReduceRange] = IntegerModes,
        [WeightType] = IntegerModes,
        [ActivationType] = StaticOnly,
        [QuantFormat] = StaticOnly,
        [OpTypesToQuantize] = AllModes,
        [NodesToQuantize] = AllModes,
        [NodesToExclude] = AllModes,
        [Calibration] = StaticOnly,
        [CalibrateMethod] = StaticOnly,
        [ExtraOptions] = IntegerModes,
        [NodeOverrides] = StaticOnly,
        [Bits] = WeightOnlyModes,
        [BlockSize] = WeightOnlyModes,
        [Symmetric] = WeightOnlyModes,
        [AccuracyLevel] = WeightOnlyModes,
        [ScaleType] = WeightOnlyModes,
    };

    public static IReadOnlyList<string> CalibrationOptions { get; } =
        [Data, Method, Samples, BatchSize, Percentile, MovingAverage, MovingAverageConstant, Symmetric];

    /// <summary>The ORT <c>extra_options</c> keys Compress reads, with ORT's exact CamelCase spelling.</summary>
    public static IReadOnlyList<string> ExtraOptionKeys { get; } =
    [
        ActivationSymmetric, WeightSymmetric, CalibMovingAverage, CalibMovingAverageConstant, CalibPercentile,
        CalibTensorRangeSymmetric, QuantizeBias, MinimumRealRange, MatMulConstBOnly, ForceQuantizeNoInputCheck,
    ];

    /// <summary>The modes each extra option applies to (extra_options itself is dynamic and static only).</summary>
    public static IReadOnlyDictionary<string, QuantizationMode[]> ExtraOptionModes { get; } = new Dictionary<string, QuantizationMode[]>(StringComparer.Ordinal)
    {
        [ActivationSymmetric] = StaticOnly,
        [WeightSymmetric] = IntegerModes,
        [CalibMovingAverage] = StaticOnly,
        [CalibMovingAverageConstant] = StaticOnly,
        [CalibPercentile] = StaticOnly,
        [CalibTensorRangeSymmetric] = StaticOnly,
        [QuantizeBias] = StaticOnly,
        [MinimumRealRange] = IntegerModes,
        [MatMulConstBOnly] = IntegerModes,
        [ForceQuantizeNoInputCheck] = IntegerModes,
    };

    /// <summary>The extra options that say the same as a key of <c>calibration</c>.</summary>
    public static IReadOnlyDictionary<string, string> ExtraOptionCalibrationKeys { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [CalibMovingAverage] = MovingAverage,
        [CalibMovingAverageConstant] = MovingAverageConstant,
        [CalibPercentile] = Percentile,
        [CalibTensorRangeSymmetric] = Symmetric,
    };

    /// <summary>
    /// ORT extra options that exist but that Compress does not implement (CMP0016), with a hint each; an
    /// empty hint means none.
    /// </summary>
    public static IReadOnlyDictionary<string, string> UnsupportedExtraOptions { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["EnableSubgraph"] = string.Empty,
        ["AddQDQPairToWeight"] = string.Empty,
        ["OpTypesToExcludeOutputQuantization"] = string.Empty,
        ["DedicatedQDQPair"] = string.Empty,
        ["QDQOpTypePerChannelSupportToAxis"] = string.Empty,
        ["CalibStridedMinMax"] = " Use 'calibration: { batch_size: … }' to bound memory.",
        ["CalibMaxIntermediateOutputs"] = " Use 'calibration: { batch_size: … }' to bound memory.",
        ["CalibNumBins"] = string.Empty,
        ["SmoothQuant"] = string.Empty,
        ["SmoothQuantAlpha"] = string.Empty,
        ["SmoothQuantFolding"] = string.Empty,
        ["UseQDQContribOps"] = string.Empty,
        ["TensorQuantOverrides"] = " Use 'node_overrides' for per-node types and exclusions.",
        ["QDQKeepRemovableActivations"] = string.Empty,
        ["QDQDisableWeightAdjustForInt32Bias"] = string.Empty,
        ["extra.Sigmoid.nnapi"] = string.Empty,
    };

    /// <summary>The calibration keys that only mean something for one calibration method.</summary>
    public static IReadOnlyDictionary<string, CalibrationMethod> CalibrationKeyMethods { get; } = new Dictionary<string, CalibrationMethod>(StringComparer.Ordinal)
    {
        [Percentile] = CalibrationMethod.Percentile,
        [MovingAverage] = CalibrationMethod.MinMax,
        [MovingAverageConstant] = CalibrationMethod.MinMax,
    };

    public static IReadOnlyList<string> NodeOverrideOptions { get; } = [Nodes, Exclude, ActivationType, WeightType, PerChannel];

    public static IReadOnlyList<string> Float16Options { get; } = [KeepIoTypes, OpBlockList, NodeBlockList];

    public static IReadOnlyList<string> CleanupOptions { get; } = [RemoveIdentity, RemoveDropout, RemoveDeadNodes, FoldBatchNorm, FoldConstants, FuseHardSwish];

    /// <summary>The options of each pass kind.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> PassOptions { get; } = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal)
    {
        [QuantizePassSpec.PassKind] = QuantizeOptions,
        [Float16PassSpec.PassKind] = Float16Options,
        [CleanupPassSpec.PassKind] = CleanupOptions,
        [PrunePassSpec.PassKind] = PruneKeys.PruneOptions,
        [ReconstructPassSpec.PassKind] = PruneKeys.ReconstructOptions,
    };

    /// <summary>YAML spellings of <see cref="QuantizationMode"/>, exact (lower case).</summary>
    public static IReadOnlyList<KeyValuePair<string, QuantizationMode>> Modes { get; } =
    [
        new("dynamic", QuantizationMode.Dynamic),
        new("static", QuantizationMode.Static),
        new("weight_only", QuantizationMode.WeightOnly),
    ];

    /// <summary>YAML spellings of <see cref="QuantType"/>, compared case-insensitively; the 8-bit ones first.</summary>
    public static IReadOnlyList<KeyValuePair<string, QuantType>> QuantTypes { get; } =
    [
        new("QInt8", QuantType.QInt8),
        new("QUInt8", QuantType.QUInt8),
        new("int8", QuantType.QInt8),
        new("uint8", QuantType.QUInt8),
        new("QInt16", QuantType.QInt16),
        new("QUInt16", QuantType.QUInt16),
        new("int16", QuantType.QInt16),
        new("uint16", QuantType.QUInt16),
    ];

    /// <summary>The 8-bit spellings of <see cref="QuantTypes"/>: what mode dynamic accepts.</summary>
    public static IReadOnlyList<KeyValuePair<string, QuantType>> EightBitQuantTypes { get; } =
        [.. QuantTypes.Where(t => t.Value is QuantType.QInt8 or QuantType.QUInt8)];

    /// <summary>YAML spellings of <see cref="WeightScaleType"/> (weight_only <c>scale_type</c>), exact.</summary>
    public static IReadOnlyList<KeyValuePair<string, WeightScaleType>> WeightScaleTypes { get; } =
    [
        new("auto", WeightScaleType.Auto),
        new("float", WeightScaleType.Float),
        new("float16", WeightScaleType.Float16),
    ];

    /// <summary>YAML spellings of <see cref="Spec.QuantFormat"/>, compared case-insensitively.</summary>
    public static IReadOnlyList<KeyValuePair<string, QuantFormat>> QuantFormats { get; } =
    [
        new("QDQ", Spec.QuantFormat.QDQ),
        new("QOperator", Spec.QuantFormat.QOperator),
    ];

    /// <summary>YAML spellings of <see cref="CalibrationMethod"/>, exact: ours in lower case and ORT's enum names.</summary>
    public static IReadOnlyList<KeyValuePair<string, CalibrationMethod>> CalibrationMethods { get; } =
    [
        new("minmax", CalibrationMethod.MinMax),
        new("entropy", CalibrationMethod.Entropy),
        new("percentile", CalibrationMethod.Percentile),
        new("MinMax", CalibrationMethod.MinMax),
        new("Entropy", CalibrationMethod.Entropy),
        new("Percentile", CalibrationMethod.Percentile),
    ];

    /// <summary>Allowed values of <c>bits</c> (weight_only).</summary>
    public static IReadOnlyList<int> WeightOnlyBits { get; } = [4, 8];

    /// <summary>The YAML word for a mode, e.g. weight_only.</summary>
    public static string ModeName(QuantizationMode mode) => Modes.First(m => m.Value == mode).Key;

    /// <summary>Words a list of modes for messages: "static", "dynamic or static".</summary>
    public static string ModeNames(IEnumerable<QuantizationMode> modes)
    {
        List<string> names = modes.Select(ModeName).ToList();
        return names.Count == 1 ? names[0] : string.Join(", ", names[..^1]) + " or " + names[^1];
    }
}
