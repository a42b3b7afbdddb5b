namespace Compress.Runtime.DependencyInjection;

/// <summary>
/// How one registered model is loaded: the file and the session options. Bound from configuration by
/// <see cref="CompressedModelServiceCollectionExtensions.AddCompressedModel(Microsoft.Extensions.DependencyInjection.IServiceCollection, string, Microsoft.Extensions.Configuration.IConfiguration)"/>:
/// <c>Path</c>, <c>SessionCount</c> and every <see cref="CompressedModelOptions"/> property
/// (<c>IntraOpNumThreads</c>, <c>GraphOptimizationLevel</c>, …) may sit directly in the section.
/// </summary>
public sealed class CompressedModelSettings
{
    /// <summary>The <c>.onnx</c> or <c>.onnx.br</c> file; a relative path is resolved against <see cref="AppContext.BaseDirectory"/> (where build outputs copy models).</summary>
    public string? Path { get; set; }

    /// <summary>How many sessions a pool registered with <c>AddCompressedModelPool</c> loads (default 1); ignored for a single model.</summary>
    public int SessionCount { get; set; } = 1;

    /// <summary>The session options (ONNX Runtime threads, optimization level, int8 settings).</summary>
    public CompressedModelOptions Options { get; set; } = new();

    /// <summary>The full path the model is loaded from.</summary>
    internal string ResolvedPath => System.IO.Path.GetFullPath(Path!, AppContext.BaseDirectory);
}
