namespace Compress.Core.Spec;

/// <summary>
/// One entry of <c>node_overrides</c> (static mode): settings for the nodes whose names match a glob.
/// When several entries match a node, each setting comes from the last matching entry that sets it.
/// </summary>
public sealed class NodeOverrideSpec
{
    /// <summary>Node-name glob (<c>*</c> any run of characters, <c>?</c> one character), matched against whole names.</summary>
    public required string Nodes { get; init; }

    /// <summary>True: matching nodes stay float. False: undoes an earlier <c>exclude: true</c>. Null: not set.</summary>
    public bool? Exclude { get; init; }

    /// <summary>Activation type for matching nodes; null keeps the pass's <see cref="QuantizePassSpec.ActivationType"/>.</summary>
    public QuantType? ActivationType { get; init; }

    /// <summary>Weight type for matching nodes; null keeps the pass's <see cref="QuantizePassSpec.WeightType"/>.</summary>
    public QuantType? WeightType { get; init; }

    /// <summary>Per-channel weights for matching nodes; null keeps the pass's <see cref="QuantizePassSpec.PerChannel"/>.</summary>
    public bool? PerChannel { get; init; }

    /// <summary>Where the entry starts in the spec file.</summary>
    public SourceLocation Location { get; init; } = SourceLocation.Unknown;

    /// <summary>Whether this entry applies to the node named <paramref name="nodeName"/>.</summary>
    public bool Matches(string nodeName) => NodeNameGlob.IsMatch(Nodes, nodeName);
}
