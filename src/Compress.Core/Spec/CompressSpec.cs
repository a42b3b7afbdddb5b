namespace Compress.Core.Spec;

/// <summary>A validated <c>compress.yaml</c>: which models to compress and how.</summary>
public sealed class CompressSpec
{
    /// <summary>Full path of the spec file.</summary>
    public required string SpecPath { get; init; }

    /// <summary>Full path of the folder holding the spec; relative paths in the spec start here.</summary>
    public required string SpecDirectory { get; init; }

    /// <summary>Spec format version (<c>version:</c>); always 1 for now.</summary>
    public required int Version { get; init; }

    /// <summary>The models in file order; never empty for a loaded spec.</summary>
    public required IReadOnlyList<ModelSpec> Models { get; init; }
}
