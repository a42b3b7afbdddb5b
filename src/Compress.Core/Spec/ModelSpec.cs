namespace Compress.Core.Spec;

/// <summary>One entry of <c>models:</c>: a source model and the passes that turn it into one output file.</summary>
public sealed class ModelSpec
{
    /// <summary>Unique name, safe as a file name (letters, digits, '.', '_', '-').</summary>
    public required string Name { get; init; }

    /// <summary>Full path of the source ONNX model, resolved relative to the spec's folder.</summary>
    public required string SourcePath { get; init; }

    /// <summary>
    /// Path of the compressed model relative to the output folder, with forward slashes; never absolute and
    /// never leaving the output folder. Default <c>&lt;name&gt;.onnx</c>.
    /// </summary>
    public required string OutputPath { get; init; }

    /// <summary>
    /// Path of the JSON report relative to the output folder, with forward slashes:
    /// <c>&lt;name&gt;.report.json</c> in the folder of <see cref="OutputPath"/>.
    /// </summary>
    public required string ReportPath { get; init; }

    /// <summary>Passes in the order they run; empty means the model is copied through and reported.</summary>
    public IReadOnlyList<PassSpec> Passes { get; init; } = [];

    /// <summary>The <c>evaluate</c> block: accuracy budget checked after the passes; null when absent.</summary>
    public EvaluateSpec? Evaluate { get; init; }

    /// <summary>The <c>pack</c> key: <c>brotli</c> also ships <c>&lt;name&gt;.onnx.br</c>.</summary>
    public Packing.PackFormat Pack { get; init; }

    /// <summary>The <c>storage</c> key: <c>sparse</c> stores weights with enough zeros as ONNX sparse initializers.</summary>
    public Onnx.InitializerStorage Storage { get; init; }

    /// <summary>Where the entry starts in the spec file.</summary>
    public SourceLocation Location { get; init; } = SourceLocation.Unknown;
}
