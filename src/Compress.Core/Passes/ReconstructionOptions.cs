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

    /// <summary>
    /// Conv: when the calibration set is small (one 640x640 page for ocr-det), more positions are sampled per
    /// sample so each layer gets at least this many rows; 64 rows of one page left ocr-det's layers
    /// underdetermined (IoU 0.83 / 0.66 instead of 0.90 / 0.86 with 8,192).
    /// </summary>
    public int MinimumConvRows { get; init; } = 8192;

    /// <summary>Conv positions sampled per calibration sample for a set of <paramref name="samples"/> samples.</summary>
    public int ConvPositionsPerSample(int samples) =>
        Math.Max(PositionsPerSample, (int)Math.Ceiling(MinimumConvRows / (double)Math.Max(1, samples)));

    /// <summary>Node-name globs (<c>*</c>, <c>?</c>) of layers not to refit.</summary>
    public IReadOnlyList<string> NodesToExclude { get; init; } = [];

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for values out of range.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(PositionsPerSample, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MinimumConvRows, 0);
        if (!(Damping > 0 && double.IsFinite(Damping)))
        {
            throw new ArgumentOutOfRangeException(nameof(Damping), Damping, "damping must be a finite number > 0.");
        }
    }
}
