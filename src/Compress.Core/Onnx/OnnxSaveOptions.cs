namespace Compress.Core.Onnx;

/// <summary>Options for <see cref="OnnxModelFile.Save(Proto.ModelProto, string, OnnxSaveOptions?)"/>.</summary>
public sealed record OnnxSaveOptions
{
    /// <summary>Largest message protobuf can serialize and parse: 2^31 - 1 bytes (a signed 32-bit size).</summary>
    public const long ProtobufLimitBytes = int.MaxValue;

    /// <summary>The defaults: <see cref="ExternalDataMode.Auto"/>, 1 KiB threshold, 4 KiB alignment.</summary>
    public static OnnxSaveOptions Default { get; } = new();

    /// <summary>When tensor data goes to a separate file. Default <see cref="ExternalDataMode.Auto"/>.</summary>
    public ExternalDataMode ExternalData { get; init; } = ExternalDataMode.Auto;

    /// <summary>
    /// Name of the external data file, a plain file name that lands beside the model
    /// (no folders, no <c>..</c>). Null means "&lt;model file name&gt;.data", e.g. <c>model.onnx.data</c>.
    /// </summary>
    public string? ExternalDataFileName { get; init; }

    /// <summary>Tensors with fewer data bytes than this stay inside the model file. Default 1024 (as in onnx).</summary>
    public int MinExternalTensorBytes { get; init; } = 1024;

    /// <summary>
    /// Each external tensor starts at a multiple of this many bytes (zero padding between tensors), so
    /// runtimes can memory-map the data file page by page. Default 4096 (the page size on Linux and macOS;
    /// Windows' mapping granularity is 64 KiB, which ONNX Runtime handles by mapping from the aligned start
    /// below). Must be a power of two; 1 packs tensors without padding.
    /// </summary>
    public int ExternalDataAlignment { get; init; } = 4096;

    /// <summary>The size limit used by <see cref="ExternalDataMode.Auto"/> and <see cref="ExternalDataMode.Never"/>; tests lower it.</summary>
    internal long SizeLimitBytes { get; init; } = ProtobufLimitBytes;

    /// <summary>Test hook: runs after the temporary files are written and before they replace the targets.</summary>
    internal Action? BeforeCommit { get; init; }
}
