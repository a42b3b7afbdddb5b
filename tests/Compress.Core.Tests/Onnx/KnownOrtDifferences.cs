namespace Compress.Core.Tests.Onnx;

/// <summary>
/// Backend cases where ONNX Runtime 1.31 runs the model but its outputs differ from the onnx 1.12
/// reference data, each with the concrete reason. Kept short on purpose: anything not listed fails.
/// Cross-checked against ORT's own onnxruntime/test/testdata/onnx_backend_test_series_filters.jsonc.
/// </summary>
internal static class KnownOrtDifferences
{
    private const string RandomBernoulli =
        "Bernoulli samples random numbers; ORT's generator is not numpy's, so the reference draw cannot be reproduced (even with 'seed')";

    private const string RandomDropout =
        "Dropout with training_mode=true draws a random mask; ORT's generator is not numpy's (ORT filters: ^test_training_dropout.*)";

    private const string FloatToString =
        "Cast float->string: numpy formats with shortest round-trip repr ('0.6048455'), ORT with 8 significant digits ('0.60484552') (ORT filters: failing_permanently ^test_cast_FLOAT_to_STRING)";

    private const string AlignCornersDownsample =
        "Resize align_corners downsampling: the onnx 1.12 reference maps coordinates with the given scale, ORT with (in-1)/(out-1) of the rounded output size (ORT filters: 'results mismatch with onnx tests')";

    private static readonly Dictionary<string, string> Reasons = new(StringComparer.Ordinal)
    {
        ["test_bernoulli"] = RandomBernoulli,
        ["test_bernoulli_double"] = RandomBernoulli,
        ["test_bernoulli_double_expanded"] = RandomBernoulli,
        ["test_bernoulli_expanded"] = RandomBernoulli,
        ["test_bernoulli_seed"] = RandomBernoulli,
        ["test_bernoulli_seed_expanded"] = RandomBernoulli,
        ["test_training_dropout"] = RandomDropout,
        ["test_training_dropout_default"] = RandomDropout,
        ["test_training_dropout_default_mask"] = RandomDropout,
        ["test_training_dropout_mask"] = RandomDropout,
        ["test_cast_FLOAT_to_STRING"] = FloatToString,
        ["test_castlike_FLOAT_to_STRING"] = FloatToString,
        ["test_castlike_FLOAT_to_STRING_expanded"] = FloatToString,
        ["test_resize_downsample_scales_cubic_align_corners"] = AlignCornersDownsample,
        ["test_resize_downsample_scales_linear_align_corners"] = AlignCornersDownsample,
        ["test_cast_FLOAT_to_BFLOAT16"] =
            "Cast float->bfloat16: the onnx 1.12 reference truncates (drops the low 16 bits), ORT rounds to nearest even, so values differ by one bfloat16 step",
        ["test_maxunpool_export_with_output_shape"] =
            "MaxUnpool with output_shape: ORT places values by the indices in the padded output, the onnx 1.12 reference data differ (ORT filters: 'result mismatch')",
    };

    /// <summary>
    /// Cases compared with atol = factor x max|expected| instead of 1e-7. DFT/STFT sum up to ~100 float32
    /// products of values up to 127, giving outputs up to ~2000; bins that are exactly 0 in numpy's float64
    /// reference come out of a float32 FFT as round-off of ~1e-5..1e-4. ORT's own runner loosens these too
    /// (onnx_backend_test_series_overrides.jsonc: test_dft, test_dft_axis atol 1e-4, for newer data).
    /// </summary>
    private static readonly Dictionary<string, double> ScaledAtols = new(StringComparer.Ordinal)
    {
        ["test_dft"] = 1e-6,
        ["test_dft_axis"] = 1e-6,
        ["test_dft_inverse"] = 1e-6,
        ["test_stft"] = 1e-6,
        ["test_stft_with_window"] = 1e-6,
    };

    /// <summary>Why <paramref name="caseName"/> is allowed to differ, or null.</summary>
    public static string? Reason(string caseName) => Reasons.GetValueOrDefault(caseName);

    /// <summary>The factor for a magnitude-scaled absolute tolerance, or null for the default atol.</summary>
    public static double? ScaledAtol(string caseName) => ScaledAtols.TryGetValue(caseName, out double factor) ? factor : null;

    /// <summary>
    /// Every listed deterministic case (to check the list has no stale entries). Random cases are left
    /// out: a random draw can match the reference by chance, which says nothing about staleness.
    /// </summary>
    public static IReadOnlyCollection<string> DeterministicCases =>
        [.. Reasons.Where(r => r.Value is not (RandomBernoulli or RandomDropout)).Select(r => r.Key)];
}
