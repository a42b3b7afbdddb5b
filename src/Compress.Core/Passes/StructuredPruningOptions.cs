namespace Compress.Core.Passes;

/// <summary>Options of <see cref="StructuredPruning"/>.</summary>
public sealed class StructuredPruningOptions
{
    /// <summary>Fraction of each layer's outputs to remove, in (0, 1): floor(ratio × outputs) are removed, at least one is kept.</summary>
    public double Ratio { get; init; } = 0.25;

    /// <summary>Importance of an output: the norm of its weight row.</summary>
    public StructuredPruningNorm Norm { get; init; } = StructuredPruningNorm.L2;

    /// <summary>Operators whose outputs may be removed.</summary>
    public IReadOnlyList<string> OpTypes { get; init; } = ["Conv", "MatMul", "Gemm"];

    /// <summary>Node-name globs (<c>*</c>, <c>?</c>) of nodes whose outputs stay (their inputs still follow an upstream layer).</summary>
    public IReadOnlyList<string> NodesToExclude { get; init; } = [];

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> when <see cref="Ratio"/> is outside (0, 1).</summary>
    public void Validate()
    {
        if (!(Ratio > 0 && Ratio < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(Ratio), Ratio, "ratio must be in (0, 1).");
        }
    }
}
