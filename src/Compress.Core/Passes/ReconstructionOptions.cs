namespace Compress.Core.Passes;

/// <summary>Options of <see cref="Reconstruction"/>.</summary>
public sealed class ReconstructionOptions
{
    /// <summary>Samples per model run while capturing layer inputs and outputs.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>
    /// Ridge strength relative to the mean diagonal of XᵀX. The ridge pulls towards the pruned weights
    /// (not towards zero), so directions the calibration data does not excite keep their values.
    /// </summary>
    public double Damping { get; init; } = 0.01;

    /// <summary>Conv: output positions sampled per sample for the im2col rows.</summary>
    public int PositionsPerSample { get; init; } = 64;

    /// <summary>Node-name globs (<c>*</c>, <c>?</c>) of layers not to refit.</summary>
    public IReadOnlyList<string> NodesToExclude { get; init; } = [];

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for values out of range.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(PositionsPerSample, 1);
        if (!(Damping > 0 && double.IsFinite(Damping)))
        {
            throw new ArgumentOutOfRangeException(nameof(Damping), Damping, "damping must be a finite number > 0.");
        }
    }
}
