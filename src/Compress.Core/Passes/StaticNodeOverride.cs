using Compress.Core.Spec;

namespace Compress.Core.Passes;

/// <summary>
/// Per-node settings of <see cref="StaticQuantization"/> for the nodes whose names match
/// <see cref="Node"/> (a glob, <see cref="NodeNameGlob"/>). Null members keep the pass-wide value.
/// The first matching override wins.
/// </summary>
public sealed record StaticNodeOverride
{
    /// <summary>Node-name glob (<c>*</c>, <c>?</c>).</summary>
    public required string Node { get; init; }

    /// <summary>Leave the matching nodes in float.</summary>
    public bool Exclude { get; init; }

    /// <summary>Integer type of the activations these nodes produce.</summary>
    public QuantType? ActivationType { get; init; }

    /// <summary>Integer type of these nodes' weights.</summary>
    public QuantType? WeightType { get; init; }

    /// <summary>Per-channel weights for these nodes.</summary>
    public bool? PerChannel { get; init; }
}
