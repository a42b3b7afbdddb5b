using Compress.Core.Calibration;

namespace Compress.Core.Passes;

/// <summary>
/// Options of <see cref="MagnitudePruning"/>. Exactly one criterion: <see cref="Sparsity"/>,
/// <see cref="Threshold"/> or <see cref="Pattern"/>.
/// </summary>
public sealed class MagnitudePruningOptions
{
    /// <summary>Target fraction of zero weights in [0, 1): the smallest-magnitude weights are zeroed until exactly round(sparsity × count) are zero.</summary>
    public double? Sparsity { get; init; }

    /// <summary>Zero every weight with |w| ≤ threshold (≥ 0).</summary>
    public double? Threshold { get; init; }

    /// <summary>N:M pattern along each layer's input dimension (e.g. 2:4).</summary>
    public MagnitudePruningPattern? Pattern { get; init; }

    /// <summary>Whether <see cref="Sparsity"/> applies to each layer or to all selected weights together.</summary>
    public MagnitudePruningScope Scope { get; init; } = MagnitudePruningScope.PerLayer;

    /// <summary>
    /// Calibration data for activation-aware importance (<c>importance: activations</c>): weights are ranked by |w| times
    /// the RMS of the input channel they multiply (<see cref="MagnitudePruningActivations"/>). Null ranks by |w| alone.
    /// Not used with <see cref="Threshold"/>, which is a bound on |w| itself.
    /// </summary>
    public CalibrationDataSet? ActivationData { get; init; }

    /// <summary>Samples per ONNX Runtime run while measuring <see cref="ActivationData"/>.</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>Operators whose weight (input 1) is pruned; biases, normalisation parameters and embeddings never are.</summary>
    public IReadOnlyList<string> OpTypes { get; init; } = ["Conv", "MatMul", "Gemm"];

    /// <summary>Node-name globs (<c>*</c>, <c>?</c>) of nodes whose weights stay as they are.</summary>
    public IReadOnlyList<string> NodesToExclude { get; init; } = [];

    /// <summary>Throws <see cref="ArgumentException"/> unless exactly one criterion with a valid value is set.</summary>
    public void Validate()
    {
        int criteria = (Sparsity is null ? 0 : 1) + (Threshold is null ? 0 : 1) + (Pattern is null ? 0 : 1);
        if (criteria != 1)
        {
            throw new ArgumentException("Magnitude pruning needs exactly one of sparsity, threshold or pattern.");
        }

        if (Sparsity is double s && !(s >= 0 && s < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(Sparsity), s, "sparsity must be in [0, 1).");
        }

        if (Threshold is double t && !(t >= 0 && double.IsFinite(t)))
        {
            throw new ArgumentOutOfRangeException(nameof(Threshold), t, "threshold must be a finite number ≥ 0.");
        }

        if (ActivationData is not null && Threshold is not null)
        {
            throw new ArgumentException("Activation-aware importance ranks weights for a sparsity or a pattern; a threshold bounds |w| itself.");
        }

        if (Pattern is { } p && !(p.N >= 1 && p.N < p.M))
        {
            throw new ArgumentOutOfRangeException(nameof(Pattern), p, "pattern N:M needs 1 ≤ N < M.");
        }
    }
}
