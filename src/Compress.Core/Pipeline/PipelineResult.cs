using Compress.Core.Diagnostics;

namespace Compress.Core.Pipeline;

/// <summary>Outcome of running a spec: per-model reports, diagnostics and the files read and written.</summary>
public sealed class PipelineResult
{
    public required IReadOnlyList<ModelReport> Models { get; init; }

    public required IReadOnlyList<Diagnostic> Diagnostics { get; init; }

    /// <summary>Every file the outputs depend on (spec, sources, data), full paths, sorted.</summary>
    public required IReadOnlyList<string> Inputs { get; init; }

    /// <summary>Every file written (models, external data, reports), full paths, sorted.</summary>
    public required IReadOnlyList<string> Outputs { get; init; }

    public bool Succeeded => !Diagnostics.Any(d => d.IsError);
}
