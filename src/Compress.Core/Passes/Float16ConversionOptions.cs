namespace Compress.Core.Passes;

/// <summary>
/// Options of <see cref="Float16Conversion"/>, named after onnxconverter_common.float16 /
/// onnxruntime.transformers.float16 convert_float_to_float16 (keep_io_types, op_block_list,
/// node_block_list, min_positive_val, max_finite_val).
/// </summary>
public sealed class Float16ConversionOptions
{
    /// <summary>The smallest positive float16 value (subnormal 2^-24): the reference's default min_positive_val.</summary>
    public const float SmallestPositiveFloat16 = 5.96e-08f;

    /// <summary>The largest finite float16 value: the reference's default max_finite_val.</summary>
    public const float LargestFiniteFloat16 = 65504f;

    /// <summary>
    /// Op types kept in float32 by default: the reference's DEFAULT_OP_BLOCK_LIST (ONNX-ML ops,
    /// NonMaxSuppression, TopK, RoiAlign, Resize, Range, CumSum, Min, Max, Upsample), plus ops whose
    /// float output comes from a dtype attribute or whose float inputs have fixed types, which ONNX
    /// Runtime's CPU provider cannot run in float16 by inserting casts itself (random generators,
    /// EyeLike, quantize/dequantize ops).
    /// </summary>
    public static IReadOnlyList<string> DefaultOpBlockList { get; } =
    [
        "ArrayFeatureExtractor", "Binarizer", "CastMap", "CategoryMapper", "DictVectorizer", "FeatureVectorizer",
        "Imputer", "LabelEncoder", "LinearClassifier", "LinearRegressor", "Normalizer", "OneHotEncoder",
        "SVMClassifier", "SVMRegressor", "Scaler", "TreeEnsembleClassifier", "TreeEnsembleRegressor", "ZipMap",
        "NonMaxSuppression", "TopK", "RoiAlign", "Resize", "Range", "CumSum", "Min", "Max", "Upsample",
        "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli", "EyeLike",
        "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear",
    ];

    /// <summary>
    /// Keep float32 graph inputs and outputs: Cast nodes convert them to and from float16 inside
    /// the graph, so callers keep feeding and reading float32. False (the reference's default)
    /// changes the interface to float16.
    /// </summary>
    public bool KeepIoTypes { get; init; }

    /// <summary>Op types (default domain) left in float32, with Casts around them.</summary>
    public IReadOnlyList<string> OpBlockList { get; init; } = DefaultOpBlockList;

    /// <summary>Node-name globs (<c>*</c>, <c>?</c>) of nodes left in float32, with Casts around them.</summary>
    public IReadOnlyList<string> NodeBlockList { get; init; } = [];

    /// <summary>Non-zero values of smaller magnitude become ±this value, so they do not flush to zero.</summary>
    public float MinPositiveValue { get; init; } = SmallestPositiveFloat16;

    /// <summary>Finite values of larger magnitude become ±this value, so they do not overflow to infinity.</summary>
    public float MaxFiniteValue { get; init; } = LargestFiniteFloat16;

    /// <summary>
    /// Keep in float32 every node that reads a float constant with finite values beyond
    /// <see cref="MaxFiniteValue"/> (and the constant itself), instead of clamping those values as the
    /// reference does. Clamping changes such models badly (ocr-det's BatchNormalization variances
    /// reach 9.8e7); set false for the reference's behaviour.
    /// </summary>
    public bool KeepOverflowingConstantsInFloat32 { get; init; } = true;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for clamping limits float16 cannot hold.</summary>
    public void Validate()
    {
        if (!(MinPositiveValue >= SmallestPositiveFloat16))
        {
            throw new ArgumentOutOfRangeException(nameof(MinPositiveValue), MinPositiveValue, "min_positive_val must be at least 5.96e-08, the smallest positive float16.");
        }

        if (!(MaxFiniteValue <= LargestFiniteFloat16) || !(MaxFiniteValue > MinPositiveValue))
        {
            throw new ArgumentOutOfRangeException(nameof(MaxFiniteValue), MaxFiniteValue, "max_finite_val must be at most 65504, the largest float16, and above min_positive_val.");
        }
    }
}
