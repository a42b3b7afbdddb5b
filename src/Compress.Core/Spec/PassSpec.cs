namespace Compress.Core.Spec;

/// <summary>One entry of a model's <c>passes:</c>; the subclass carries the pass's typed options.</summary>
public abstract class PassSpec
{
    /// <summary>Creates a pass of the given kind.</summary>
    /// <param name="kind">The pass name as written in YAML, e.g. <c>quantize</c>.</param>
    protected PassSpec(string kind) => Kind = kind;

    /// <summary>The pass name as written in YAML, e.g. <c>quantize</c>.</summary>
    public string Kind { get; }

    /// <summary>Where the pass name stands in the spec file; passes report their diagnostics here.</summary>
    public SourceLocation Location { get; init; } = SourceLocation.Unknown;
}
