namespace Compress.Core.Pipeline;

/// <summary>Run-wide settings of <see cref="CompressPipeline"/> that are not part of the spec.</summary>
public sealed class CompressPipelineSettings
{
    /// <summary>No cache, accuracy-budget misses are errors.</summary>
    public static CompressPipelineSettings Default { get; } = new();

    /// <summary>
    /// Content-addressed caches of compressed models, looked up in order (e.g. the project's
    /// <c>obj/.../compress/cache</c>, then a folder shared by projects); every one receives new results.
    /// Empty: no cache.
    /// </summary>
    public IReadOnlyList<string> CacheDirectories { get; init; } = [];

    /// <summary>
    /// How a model that misses an accuracy budget of the spec is reported. Takes effect for models whose
    /// spec declares evaluation budgets; other models are unaffected.
    /// </summary>
    public AccuracyFailureSeverity OnAccuracyFailure { get; init; } = AccuracyFailureSeverity.Error;

    /// <summary>
    /// Output models larger than this keep their tensors (sparse initializers' values and positions included)
    /// in <c>&lt;name&gt;.onnx.data</c>: protobuf's 2 GB limit; tests lower it instead of writing 2 GB files.
    /// </summary>
    internal long ExternalDataSizeLimitBytes { get; init; } = Onnx.OnnxSaveOptions.ProtobufLimitBytes;
}
